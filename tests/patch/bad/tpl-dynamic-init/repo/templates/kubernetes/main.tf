# The init scripts reach the container through a dynamic block's iterator: patch cannot wrap them.
data "coder_workspace" "me" {}

resource "coder_agent" "main" {
  count = 2
  os    = "linux"
  arch  = "amd64"
}

resource "kubernetes_pod_v1" "main" {
  metadata {
    name = "coder-${data.coder_workspace.me.id}"
  }
  spec {
    container {
      name  = "dev"
      image = "codercom/enterprise-base:ubuntu"
      env {
        name  = "CODER_AGENT_URL"
        value = data.coder_workspace.me.access_url
      }
      dynamic "env" {
        for_each = coder_agent.main
        content {
          name  = "CODER_AGENT_INIT_${env.key}"
          value = env.value.init_script
        }
      }
    }
  }
}
