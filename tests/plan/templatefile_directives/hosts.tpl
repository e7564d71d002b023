# hosts, one a line
%{ for name, ip in hosts ~}
${ip} ${name}
%{ endfor ~}
%{ if admin != "" ~}
admin: ${admin}
%{ else ~}
no admin
%{ endif ~}
