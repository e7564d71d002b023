Welcome to
${name