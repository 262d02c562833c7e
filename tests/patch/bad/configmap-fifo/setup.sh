# A FIFO given as the ConfigMap: refused at once (no writer: a plain open would block).
mkfifo deploy/fifo.yaml
