        location ${prefix} {
            proxy_pass ${upstream};
        }
