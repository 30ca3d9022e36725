{{/* Chart name, overridable. */}}
{{- define "alo.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Base name for every object; the release name alone when it already names the chart. */}}
{{- define "alo.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "alo.selectorLabels" -}}
app.kubernetes.io/name: {{ include "alo.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "alo.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "alo.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "alo.serviceAccountName" -}}
{{- default (printf "%s-controller-manager" (include "alo.fullname" .)) .Values.serviceAccount.name }}
{{- end }}

{{/* The username the API server gives the operator; exempt from the freeze. */}}
{{- define "alo.operatorUsername" -}}
{{- printf "system:serviceaccount:%s:%s" .Release.Namespace (include "alo.serviceAccountName" .) }}
{{- end }}

{{/* The admin group, checked so it cannot break out of a CEL string literal. */}}
{{- define "alo.adminGroup" -}}
{{- $g := required "adminGroup is required" .Values.adminGroup }}
{{- if or (contains "'" $g) (contains "\\" $g) }}
{{- fail "adminGroup must not contain quotes or backslashes" }}
{{- end }}
{{- $g }}
{{- end }}

{{/*
The rules of one generated role (kind ClusterRole or Role) from
files/role.yaml, a copy of config/rbac/role.yaml kept by `make manifests`.
*/}}
{{- define "alo.generatedRules" -}}
{{- $kind := .kind }}
{{- $found := false }}
{{- range $doc := regexSplit "(?m)^---\\s*$" (.root.Files.Get "files/role.yaml") -1 }}
{{- $obj := fromYaml $doc }}
{{- if and $obj (eq (get $obj "kind") $kind) }}
{{- $found = true }}
{{- toYaml (get $obj "rules") }}
{{- end }}
{{- end }}
{{- if not $found }}
{{- fail (printf "files/role.yaml has no %s: run make manifests" $kind) }}
{{- end }}
{{- end }}

{{/* The metrics port's name: https when served securely. */}}
{{- define "alo.metricsPortName" -}}
{{- if .Values.metrics.secure }}https{{ else }}http-metrics{{ end }}
{{- end }}
