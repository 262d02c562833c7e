# A directory given as the ConfigMap (deploy/ exists in the fixture): refused with one line.
test -d deploy
