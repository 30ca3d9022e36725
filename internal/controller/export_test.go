package controller

// CountsDelay is how long the policy controller gathers account changes.
const CountsDelay = countsDelay

// DriftRecheck is how often an account with restrictions in force is
// looked at again.
const DriftRecheck = driftRecheck
