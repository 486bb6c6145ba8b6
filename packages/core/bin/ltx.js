#!/usr/bin/env -S node --max-semi-space-size=1
// A small young generation keeps peak RSS flat on multi-GiB files (each decoded page is a
// short-lived buffer) and is faster too: measured in bench/README.md.
import '../dist/cli/main.js';
