// Package argocd runs the Argo CD health checks of config/argocd in
// gopher-lua, the Lua VM Argo CD embeds, the way Argo CD runs them.
package argocd

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

const dir = "../../config/argocd"

// toLua converts decoded JSON as Argo CD does before setting the global obj.
func toLua(l *lua.LState, v any) lua.LValue {
	switch v := v.(type) {
	case map[string]any:
		t := l.NewTable()
		for k, e := range v {
			t.RawSetString(k, toLua(l, e))
		}
		return t
	case []any:
		t := l.NewTable()
		for i, e := range v {
			t.RawSetInt(i+1, toLua(l, e))
		}
		return t
	case float64:
		return lua.LNumber(v)
	case int64:
		return lua.LNumber(v)
	case string:
		return lua.LString(v)
	case bool:
		return lua.LBool(v)
	default:
		return lua.LNil
	}
}

// health runs a health script on an object given as JSON, with only the
// libraries Argo CD opens for health scripts, and returns hs.status and
// hs.message.
func health(t *testing.T, script, object string) (string, string) {
	t.Helper()
	var obj map[string]any
	if err := json.Unmarshal([]byte(object), &obj); err != nil {
		t.Fatalf("test object: %v", err)
	}
	l := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer l.Close()
	for name, open := range map[string]lua.LGFunction{lua.LoadLibName: lua.OpenPackage, lua.BaseLibName: lua.OpenBase, lua.TabLibName: lua.OpenTable} {
		l.Push(l.NewFunction(open))
		l.Push(lua.LString(name))
		l.Call(1, 0)
	}
	l.SetGlobal("obj", toLua(l, obj))
	if err := l.DoString(script); err != nil {
		t.Fatalf("script failed: %v", err)
	}
	hs, ok := l.Get(-1).(*lua.LTable)
	if !ok {
		t.Fatalf("script returned %v, not a table", l.Get(-1))
	}
	return hs.RawGetString("status").String(), hs.RawGetString("message").String()
}

func script(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

type tc struct {
	name, object, status, message string
}

func run(t *testing.T, file string, cases []tc) {
	src := script(t, file)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, message := health(t, src, c.object)
			if status != c.status || message != c.message {
				t.Errorf("got %s %q, want %s %q", status, message, c.status, c.message)
			}
		})
	}
}

const (
	meta2        = `"metadata": {"name": "initech", "generation": 2}`
	readyTrue    = `{"type": "Ready", "status": "True", "reason": "Evaluated", "message": "score 6 of 6 reaches terminated"}`
	notPending   = `{"type": "TerminationPending", "status": "False", "reason": "NotPending", "message": "not in final notice"}`
	heldFalse    = `{"type": "Held", "status": "False", "reason": "NoHold", "message": "no hold"}`
	awaitingAppr = `{"type": "TerminationPending", "status": "True", "reason": "AwaitingApproval", "message": "notice period ended; waiting for a termination approval"}`
)

func account(phase string, score int, conditions ...string) string {
	p := ""
	if phase != "" {
		p = `"phase": "` + phase + `", `
	}
	return fmt.Sprintf(`{%s, "status": {"observedGeneration": 2, %s"score": %d, "conditions": [%s]}}`,
		meta2, p, score, strings.Join(conditions, ","))
}

func TestCustomerAccountHealth(t *testing.T) {
	run(t, "customeraccount-health.lua", []tc{
		{"new account", `{` + meta2 + `}`, "Progressing", "Waiting for the operator to evaluate the account"},
		{"empty status", `{` + meta2 + `, "status": {}}`, "Progressing", "Waiting for the operator to evaluate the account"},
		{"stale status", `{` + meta2 + `, "status": {"observedGeneration": 1, "phase": "Good", "conditions": [` + readyTrue + `]}}`,
			"Progressing", "Waiting for the operator to evaluate generation 2"},
		{"good", account("Good", 0, readyTrue, notPending, heldFalse), "Healthy", "Account is in phase Good (score 0)"},
		{"warned", account("Warned", 3, readyTrue, notPending, heldFalse), "Healthy", "Account is in phase Warned (score 3)"},
		{"final notice awaiting approval", account("FinalNotice", 6, readyTrue, awaitingAppr, heldFalse),
			"Degraded", "Account is in phase FinalNotice: notice period ended; waiting for a termination approval"},
		{"final notice below termination", account("FinalNotice", 4, readyTrue, notPending),
			"Degraded", "Account is in phase FinalNotice: score 6 of 6 reaches terminated"},
		{"terminated", account("Terminated", 6, readyTrue, notPending),
			"Degraded", "Account is in phase Terminated: score 6 of 6 reaches terminated"},
		{"no policy", account("", 0, `{"type": "Ready", "status": "False", "reason": "NoPolicy", "message": "no AccountPolicy selects this account"}`),
			"Degraded", "NoPolicy: no AccountPolicy selects this account"},
		{"policy conflict", account("Warned", 2, `{"type": "Ready", "status": "False", "reason": "PolicyConflict", "message": "policies a and b both select this account"}`),
			"Degraded", "PolicyConflict: policies a and b both select this account"},
		{"enforcement failed", account("Good", 0, `{"type": "Ready", "status": "False", "reason": "EnforcementFailed", "message": "restoring tenant-a: conflict"}`),
			"Degraded", "EnforcementFailed: restoring tenant-a: conflict"},
		{"no Ready yet", account("Good", 0, heldFalse), "Progressing", "Waiting for the operator to evaluate the account"},
	})
}

func TestAccountPolicyHealth(t *testing.T) {
	policy := func(observed int, accounts int, conditions ...string) string {
		return fmt.Sprintf(`{"metadata": {"name": "standard", "generation": 3}, "status": {"observedGeneration": %d, "accounts": %d, "conditions": [%s]}}`,
			observed, accounts, strings.Join(conditions, ","))
	}
	valid := `{"type": "Ready", "status": "True", "reason": "Valid", "message": "the policy is usable"}`
	run(t, "accountpolicy-health.lua", []tc{
		{"new policy", `{"metadata": {"name": "standard", "generation": 1}}`, "Progressing", "Waiting for the operator to evaluate the policy"},
		{"ready", policy(3, 4, valid), "Healthy", "Governs 4 accounts"},
		{"ready for an older generation", policy(2, 4, valid), "Progressing", "Waiting for the operator to evaluate the policy"},
		{"invalid", policy(3, 0, `{"type": "Ready", "status": "False", "reason": "Invalid", "message": "thresholds must ascend"}`),
			"Degraded", "Invalid: thresholds must ascend"},
		{"no conditions", policy(3, 0), "Progressing", "Waiting for the operator to evaluate the policy"},
	})
}

// The argocd-cm patch carries exactly the scripts tested above, under the
// keys Argo CD reads: resource.customizations.health.<group>_<kind>.
func TestArgoCDConfigMapPatch(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(dir, "argocd-cm-patch.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cm corev1.ConfigMap
	if err := yaml.UnmarshalStrict(data, &cm); err != nil {
		t.Fatal(err)
	}
	if cm.Kind != "ConfigMap" || cm.Name != "argocd-cm" {
		t.Errorf("patch targets %s %s, want ConfigMap argocd-cm", cm.Kind, cm.Name)
	}
	want := map[string]string{
		"resource.customizations.health.accounts.lifecycle.dev_CustomerAccount": "customeraccount-health.lua",
		"resource.customizations.health.accounts.lifecycle.dev_AccountPolicy":   "accountpolicy-health.lua",
	}
	if len(cm.Data) != len(want) {
		t.Errorf("patch has keys %v, want %v", cm.Data, want)
	}
	for key, file := range want {
		if cm.Data[key] != script(t, file) {
			t.Errorf("argocd-cm %s is not a copy of %s", key, file)
		}
	}
}
