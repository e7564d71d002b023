#!/bin/sh
echo "environment: ${env}"
echo "ports: ${join(",", ports)}"
