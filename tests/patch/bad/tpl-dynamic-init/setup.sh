rm deploy/workspace-config.yaml
