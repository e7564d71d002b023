a
%{ if on }
b
