package enforcement

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/accountops/account-lifecycle-operator/api/v1alpha1"
)

// QuotaName is the ResourceQuota that puts BlockNewWorkloads in force.
const QuotaName = "account-lifecycle-block"

// RBAC for blockNewWorkloads.
// +kubebuilder:rbac:groups="",resources=resourcequotas,verbs=get;list;watch;create;patch;delete

// BlockNewWorkloads: a ResourceQuota allowing zero pods. Running pods are
// not evicted by a quota; ScaleToZero is what stops them.
var blockNewWorkloads = managedAction{quotaObject}

var quotaObject = managedObject{
	action: v1alpha1.ActionBlockNewWorkloads,
	kind:   "ResourceQuota",
	name:   QuotaName,
	empty:  func() client.Object { return &corev1.ResourceQuota{} },
	desired: func(r *nsRun) client.Object {
		return &corev1.ResourceQuota{
			ObjectMeta: metav1.ObjectMeta{Name: QuotaName, Namespace: r.ns.Name, Labels: managedLabels(r)},
			Spec: corev1.ResourceQuotaSpec{
				Hard: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("0")},
			},
		}
	},
	sameSpec: func(cur, want client.Object) bool {
		return equality.Semantic.DeepEqual(cur.(*corev1.ResourceQuota).Spec, want.(*corev1.ResourceQuota).Spec)
	},
	squatters: newRecordKind[corev1.ResourceQuota]("ResourceQuota", "rq", func(q *corev1.ResourceQuota) {
		q.Status = corev1.ResourceQuotaStatus{}
	}),
}
