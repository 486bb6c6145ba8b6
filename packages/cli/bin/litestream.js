#!/usr/bin/env -S node --max-semi-space-size=1
// A small young generation keeps peak RSS flat while restoring or snapshotting multi-GiB
// databases (each page is a short-lived buffer); see bench/README.md.
import '../dist/main.js';
