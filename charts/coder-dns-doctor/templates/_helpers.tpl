{{/* Names, labels and the derived settings every template shares. */}}

{{- define "cdd.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "cdd.fullname" -}}
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

{{- define "cdd.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "cdd.selectorLabels" -}}
app.kubernetes.io/name: {{ include "cdd.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "cdd.labels" -}}
helm.sh/chart: {{ include "cdd.chart" . }}
{{ include "cdd.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: {{ .Values.mode }}
{{- end }}

{{- define "cdd.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "cdd.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "cdd.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
The config file handed to `serve --config`: .Values.config, with the listener fixed to the
container port, and an empty workspace-namespace list written as [""] (the binary's "audit off").
*/}}
{{- define "cdd.configFile" -}}
{{- $config := deepCopy .Values.config }}
{{- if and (hasKey $config "workspace-namespace") (empty (get $config "workspace-namespace")) }}
{{- $_ := set $config "workspace-namespace" (list "") }}
{{- end }}
{{- if hasKey $config "kube" }}{{ $_ := set $config "kube" (include "cdd.kubeMode" .) }}{{ end }}
{{- $_ := set $config "listen" (printf "0.0.0.0:%d" (int .Values.port)) }}
{{- toYaml $config }}
{{- end }}

{{/* config `kube`, with YAML 1.1's `kube: off` (a boolean false) read as "off". */}}
{{- define "cdd.kubeMode" -}}
{{- $kube := get .Values.config "kube" }}
{{- if kindIs "bool" $kube }}{{ ternary "in-cluster" "off" $kube }}{{ else }}{{ default "auto" $kube }}{{ end }}
{{- end }}

{{/* "true" when serve will talk to the Kubernetes API (config `kube` not off, `checks` has kube). */}}
{{- define "cdd.kubeEnabled" -}}
{{- $config := .Values.config }}
{{- $kube := include "cdd.kubeMode" . }}
{{- $checks := get $config "checks" }}
{{- $checksList := list }}
{{- if kindIs "slice" $checks }}{{ $checksList = $checks }}{{ else if $checks }}{{ $checksList = splitList "," (toString $checks) }}{{ end }}
{{- if and (ne $kube "off") (or (empty $checksList) (has "kube" $checksList)) }}true{{ end }}
{{- end }}

{{/* Namespace of an `NS/NAME` reference. */}}
{{- define "cdd.refNamespace" -}}
{{- splitList "/" . | first }}
{{- end }}

{{/*
Namespace of the Coder Service, as the binary derives it: `coder-service`, else from the internal
URL's host <svc>.<ns>.svc[.<domain>], else coder.
*/}}
{{- define "cdd.coderServiceNamespace" -}}
{{- $config := .Values.config }}
{{- if get $config "coder-service" }}
{{- include "cdd.refNamespace" (get $config "coder-service") }}
{{- else }}
{{- $host := (urlParse (default "http://coder.coder.svc.cluster.local:80" (get $config "internal-url"))).host }}
{{- $labels := splitList "." (first (splitList ":" $host)) }}
{{- if and (ge (len $labels) 3) (eq (index $labels 2) "svc") }}
{{- index $labels 1 }}
{{- else }}coder{{ end }}
{{- end }}
{{- end }}

{{- define "cdd.coderDeploymentNamespace" -}}
{{- $config := .Values.config }}
{{- if get $config "coder-deployment" }}
{{- include "cdd.refNamespace" (get $config "coder-deployment") }}
{{- else }}
{{- include "cdd.coderServiceNamespace" . }}
{{- end }}
{{- end }}

{{/*
The RBAC the enabled features need, as YAML: {features: [...], cluster: [rule...],
clusterFeatures: [...], namespaces: {ns: [rule...]}, namespaceFeatures: {ns: [feature...]}}. Each rule is copied from
files/rbac.yaml (a link to docs/rbac.yaml, the one table the code is tested against); this helper
only decides which features are in use and in which namespace, as the binary does.
*/}}
{{- define "cdd.rbac" -}}
{{- $table := dict }}
{{- range (.Files.Get "files/rbac.yaml" | fromYaml).rules }}
{{- $_ := set $table .feature . }}
{{- end }}
{{- $config := .Values.config }}
{{- $wanted := list }}
{{- if include "cdd.kubeEnabled" . }}
{{- $coderNs := include "cdd.coderServiceNamespace" . }}
{{- $deploymentNs := include "cdd.coderDeploymentNamespace" . }}
{{- $wanted = append $wanted (list "coder-service" $coderNs) }}
{{- if .Values.rbac.endpointSlices }}
{{- $wanted = append $wanted (list "coder-endpoints" $coderNs) }}
{{- end }}
{{- if not (get $config "external-url") }}
{{- $wanted = append $wanted (list "access-url" $deploymentNs) }}
{{- if .Values.rbac.accessURLConfigMap }}
{{- $wanted = append $wanted (list "access-url-configmap" $deploymentNs) }}
{{- end }}
{{- end }}
{{- $ingressServices := get $config "ingress-service" | default list }}
{{- if empty $ingressServices }}
{{- $wanted = append $wanted (list "ingresses" "") }}
{{- else }}
{{- range $ingressServices }}
{{- $wanted = append $wanted (list "ingress-service" (include "cdd.refNamespace" .)) }}
{{- end }}
{{- end }}
{{- $kubeDnsPods := false }}
{{- $byAddress := false }}
{{- range (get $config "resolver" | default (list "cluster=system")) }}
{{- if hasSuffix "=kube-dns-pods" . }}{{ $kubeDnsPods = true }}
{{- else if not (or (hasSuffix "=system" .) (contains "=cluster:" .) (contains "=external:" .)) }}{{ $byAddress = true }}
{{- end }}
{{- end }}
{{- if $kubeDnsPods }}
{{- $wanted = append $wanted (list "kube-dns-pods" (default (get $table "kube-dns-pods").namespace.default (get $config "kube-dns-namespace"))) }}
{{- end }}
{{- if $byAddress }}
{{- $dnsService := get $config "kube-dns-service" | default "" }}
{{- $dnsServiceNs := (get $table "cluster-dns-service").namespace.default }}
{{- if $dnsService }}{{ $dnsServiceNs = include "cdd.refNamespace" $dnsService }}{{ end }}
{{- $wanted = append $wanted (list "cluster-dns-service" $dnsServiceNs) }}
{{- end }}
{{- $workspaceNamespaces := list (get $table "workspace-audit").namespace.default }}
{{- if hasKey $config "workspace-namespace" }}{{ $workspaceNamespaces = get $config "workspace-namespace" }}{{ end }}
{{- range $workspaceNamespaces }}
{{- if . }}{{ $wanted = append $wanted (list "workspace-audit" .) }}{{ end }}
{{- end }}
{{- end }}
{{- $cluster := list }}
{{- $namespaces := dict }}
{{- $namespaceFeatures := dict }}
{{- $features := list }}
{{- $clusterFeatures := list }}
{{- range $wanted }}
{{- $entry := get $table (index . 0) }}
{{- if not $entry }}{{ fail (printf "files/rbac.yaml has no feature %q" (index . 0)) }}{{ end }}
{{- $rule := dict "apiGroups" $entry.apiGroups "resources" $entry.resources "verbs" $entry.verbs }}
{{- $features = append $features $entry.feature }}
{{- if eq $entry.kind "ClusterRole" }}
{{- if not (has $rule $cluster) }}{{ $cluster = append $cluster $rule }}{{ end }}
{{- $clusterFeatures = append $clusterFeatures $entry.feature | uniq }}
{{- else }}
{{- $ns := index . 1 }}
{{- $rules := get $namespaces $ns | default list }}
{{- if not (has $rule $rules) }}{{ $_ := set $namespaces $ns (append $rules $rule) }}{{ end }}
{{- $_ := set $namespaceFeatures $ns (append (get $namespaceFeatures $ns | default list) $entry.feature | uniq) }}
{{- end }}
{{- end }}
{{- toYaml (dict "features" ($features | uniq) "cluster" $cluster "namespaces" $namespaces "namespaceFeatures" $namespaceFeatures "clusterFeatures" $clusterFeatures) }}
{{- end }}

{{/* "true" when a monitoring.coreos.com object is wanted: `enabled` true, or auto and the API exists. */}}
{{- define "cdd.monitoringEnabled" -}}
{{- $enabled := index . 0 }}
{{- $root := index . 1 }}
{{- if eq (toString $enabled) "true" }}true
{{- else if and (eq (toString $enabled) "auto") ($root.Capabilities.APIVersions.Has "monitoring.coreos.com/v1") }}true
{{- end }}
{{- end }}

{{/*
The config file as `diagnose` flags (diagnose has no --config), for NOTES.txt: every probe option,
repeatable ones repeated, `expect` as HOST=ADDR[,ADDR...]; daemon-only options left out.
*/}}
{{- define "cdd.diagnoseFlags" -}}
{{- $daemonOnly := list "interval" "jitter" "log-format" "log-level" "listen" }}
{{- $flags := list }}
{{- range $key, $value := .Values.config }}
{{- if not (has $key $daemonOnly) }}
{{- if eq $key "expect" }}
{{- range $host, $addresses := $value }}
{{- $flags = append $flags (printf "--expect %s" (printf "%s=%s" $host (ternary ($addresses | join ",") (toString $addresses) (kindIs "slice" $addresses)) | squote)) }}
{{- end }}
{{- else if kindIs "slice" $value }}
{{- if empty $value }}{{ $flags = append $flags (printf "--%s ''" $key) }}{{ end }}
{{- range $value }}{{ $flags = append $flags (printf "--%s %s" $key (toString . | squote)) }}{{ end }}
{{- else if kindIs "bool" $value }}
{{- if $value }}{{ $flags = append $flags (printf "--%s" $key) }}{{ end }}
{{- else }}
{{- $flags = append $flags (printf "--%s %s" $key (toString $value | squote)) }}
{{- end }}
{{- end }}
{{- end }}
{{- join " " $flags }}
{{- end }}

{{/*
The runbook base the alert rules link (`<base>#<anchor>`): .Values.runbookBaseUrl, else this
release's own daemon behind its Service (serve answers /runbook from docs/runbook.md).
*/}}
{{- define "cdd.runbookBaseUrl" -}}
{{- if .Values.runbookBaseUrl }}
{{- .Values.runbookBaseUrl | trimSuffix "/" }}
{{- else }}
{{- printf "http://%s.%s.svc:%d/runbook" (include "cdd.fullname" .) .Release.Namespace (int .Values.service.port) }}
{{- end }}
{{- end }}

{{/* The base every runbook_url of files/alerts.yaml is written with; the chart replaces it. */}}
{{- define "cdd.alertsFileRunbookBase" -}}
http://coder-dns-doctor.coder-dns-doctor.svc:9816/runbook
{{- end }}
