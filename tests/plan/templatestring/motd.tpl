Hello, ${name}!
%{ for r in roles ~}
- ${r}
%{ endfor ~}
