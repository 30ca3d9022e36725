// Package v1alpha1 contains the API of account-lifecycle-operator:
// CustomerAccount and AccountPolicy in group accounts.lifecycle.dev.
// +kubebuilder:object:generate=true
// +groupName=accounts.lifecycle.dev
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is the group and version used to register these objects.
	GroupVersion = schema.GroupVersion{Group: "accounts.lifecycle.dev", Version: "v1alpha1"}

	// SchemeBuilder registers the types of this package with a scheme. It
	// uses apimachinery only, so clients can import the API cheaply.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)

	// AddToScheme adds the types of this package to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

func addKnownTypes(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion,
		&CustomerAccount{}, &CustomerAccountList{},
		&AccountPolicy{}, &AccountPolicyList{},
	)
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}
