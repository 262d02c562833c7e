# A Coder workspace template (Kubernetes) with the coder-dns-doctor sidecar next to the agent.
# The sidecar checks the path the agent itself uses: the host of CODER_AGENT_URL through the pod's
# own resolv.conf, /healthz through that answer and pinned to the truth, and the internal URL.
# Only the locals, the variables and the "dns-doctor" container are new; merge them into your
# template's kubernetes_deployment_v1 (see docs/deploy.md#sidecar).

terraform {
  required_providers {
    coder = {
      source = "coder/coder"
    }
    kubernetes = {
      source = "hashicorp/kubernetes"
    }
  }
}

variable "dns_doctor_image" {
  description = "The coder-dns-doctor image (its Dockerfile: the repository root)."
  type        = string
  default     = "ghcr.io/coder-dns-doctor/coder-dns-doctor:0.1.0"
}

variable "coder_truth_addresses" {
  description = "Where the agent URL's host really is (e.g. the ingress load balancer's IPs). Empty: no comparison, only lookups and /healthz."
  type        = list(string)
  default     = []
}

data "coder_workspace" "me" {}
data "coder_workspace_owner" "me" {}

locals {
  # The URL the agent dials, used by the agent and the sidecar alike. After `coder-dns-doctor
  # patch` it is the internal Service URL read from the ConfigMap (local.coder_url).
  agent_url  = data.coder_workspace.me.access_url
  agent_host = regex("^https?://([^/:]+)", local.agent_url)[0]
}

resource "coder_agent" "main" {
  os   = "linux"
  arch = "amd64"
}

resource "kubernetes_deployment_v1" "workspace" {
  count            = data.coder_workspace.me.start_count
  wait_for_rollout = false
  metadata {
    name      = "coder-${data.coder_workspace.me.id}"
    namespace = "coder-workspace"
  }
  spec {
    replicas = 1
    selector {
      match_labels = {
        "app.kubernetes.io/instance" = "coder-${data.coder_workspace.me.id}"
      }
    }
    template {
      metadata {
        labels = {
          "app.kubernetes.io/instance" = "coder-${data.coder_workspace.me.id}"
        }
      }
      spec {
        # Neither the agent nor the sidecar needs the Kubernetes API.
        automount_service_account_token = false

        container {
          name    = "dev"
          image   = "codercom/enterprise-base:ubuntu"
          command = ["sh", "-c", replace(coder_agent.main.init_script, data.coder_workspace.me.access_url, local.agent_url)]
          env {
            name  = "CODER_AGENT_TOKEN"
            value = coder_agent.main.token
          }
          env {
            name  = "CODER_AGENT_URL"
            value = local.agent_url
          }
        }

        # ---- coder-dns-doctor sidecar -------------------------------------------------------
        container {
          name  = "dns-doctor"
          image = var.dns_doctor_image
          # sidecar: checks $CODER_AGENT_URL every 60 s; --kube off by default. Listening on all
          # addresses lets Prometheus scrape the pod's metrics port (default: loopback only).
          # --metrics minimal: ~18 series per workspace instead of ~128 (every alert
          # still fires from them); drop it for the histograms and per-reason counters.
          args = ["sidecar", "--listen", "0.0.0.0:9816", "--log-format", "json", "--metrics", "minimal"]
          env {
            name  = "CODER_AGENT_URL"
            value = local.agent_url
          }
          dynamic "env" {
            for_each = length(var.coder_truth_addresses) > 0 ? [1] : []
            content {
              name  = "CODER_DNS_DOCTOR_EXPECT"
              value = "${local.agent_host}=${join(",", var.coder_truth_addresses)}"
            }
          }
          port {
            name           = "metrics"
            container_port = 9816
          }
          liveness_probe {
            http_get {
              path = "/healthz"
              port = "metrics"
            }
            period_seconds    = 60
            timeout_seconds   = 5
            failure_threshold = 3
          }
          readiness_probe {
            http_get {
              path = "/readyz"
              port = "metrics"
            }
            period_seconds  = 15
            timeout_seconds = 5
          }
          # Measured (bench/run.py, 2026-12-06), the image's binary: idle at the 60 s default 0.50
          # CPU-seconds per hour (0.14 millicores), RSS 9.4 MiB of which 1.6 MiB private (16 MiB and
          # 2.4 MiB for a build on Debian's shared libraries), 11 fds. Requests are sized by a
          # cycle's burst, not that average (docs/deploy.md#resources).
          resources {
            requests = {
              cpu    = "5m"
              memory = "24Mi"
            }
            limits = {
              cpu    = "100m"
              memory = "64Mi"
            }
          }
          # Restricted Pod Security Standard, for this container only (the workspace container
          # keeps its own settings).
          security_context {
            run_as_non_root            = true
            run_as_user                = 10001
            run_as_group               = 10001
            allow_privilege_escalation = false
            read_only_root_filesystem  = true
            capabilities {
              drop = ["ALL"]
            }
            seccomp_profile {
              type = "RuntimeDefault"
            }
          }
        }
        # ---- end of the sidecar ---------------------------------------------------------------
      }
    }
  }
}
