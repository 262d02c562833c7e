# A FIFO given as the template: refused at once, and the ConfigMap change already planned is not
# written either.
mkfifo templates/kubernetes/fifo.tf
