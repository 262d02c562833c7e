chmod 0444 templates/kubernetes/main.tf
