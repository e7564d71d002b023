Welcome to ${name}.
Uptime: ${uptime}
