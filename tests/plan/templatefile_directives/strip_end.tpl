servers:
%{ for s in servers ~}
  - ${s}
%{ endfor ~}