package controller

// CountsDelay is how long the policy controller gathers account changes.
const CountsDelay = countsDelay
