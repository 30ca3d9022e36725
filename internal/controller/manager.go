package controller

import (
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/accountops/account-lifecycle-operator/internal/enforcement"
)

// Options wires the controllers; tests pass their own clock.
type Options struct {
	Clock             clock.PassiveClock
	OperatorNamespace string
	Enforcer          *enforcement.Enforcer
}

// SetupAll registers every controller of the operator with the manager.
func SetupAll(mgr ctrl.Manager, opts Options) error {
	if err := (&CustomerAccountReconciler{
		Client:   mgr.GetClient(),
		Clock:    opts.Clock,
		Recorder: mgr.GetEventRecorder("account-lifecycle-operator"),
		Enforcer: opts.Enforcer,
	}).SetupWithManager(mgr); err != nil {
		return err
	}
	return (&AccountPolicyReconciler{Client: mgr.GetClient()}).SetupWithManager(mgr)
}
