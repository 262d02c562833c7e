# A Kubernetes module without a Coder agent: not a workspace template.
variable "namespace" {
  type    = string
  default = "coder-workspaces"
}

resource "kubernetes_namespace_v1" "workspaces" {
  metadata {
    name = var.namespace
  }
}
