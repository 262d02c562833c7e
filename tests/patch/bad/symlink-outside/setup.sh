# Replace the ConfigMap with a symlink to a copy outside the checkout.
mv deploy/workspace-config.yaml "$OUTSIDE/workspace-config.yaml"
ln -s "$OUTSIDE/workspace-config.yaml" deploy/workspace-config.yaml
