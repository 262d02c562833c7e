# A ConfigMap file larger than any manifest (16 MiB + 1 byte): refused, not read whole.
head -c 16777217 /dev/zero | tr '\0' '#' >deploy/huge.yaml
