#!/usr/bin/env bash
# Installs everything (scripts/setup.sh), then runs the main job: continuous replication of a
# SQLite database to a local file replica. Defaults: data/app.db -> file://<repo>/data/replica.
# Override with DB=path REPLICA=url, or pass your own arguments: ./scripts/run.sh -config my.yml
set -euo pipefail
here="$(dirname "${BASH_SOURCE[0]}")"
bash "$here/setup.sh" >&2
source "$here/env.sh"
cd "$LTS_ROOT"
if [ $# -gt 0 ]; then
  exec node packages/cli/bin/litestream.js replicate "$@"
fi
db="${DB:-data/app.db}"
replica="${REPLICA:-file://$LTS_ROOT/data/replica}"
if [ ! -e "$db" ]; then
  mkdir -p "$(dirname "$db")"
  node -e "const D=require('better-sqlite3'); const d=new D(process.argv[1]); d.pragma('journal_mode=wal'); d.exec('CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, body TEXT)'); d.close()" "$db" 2>/dev/null \
    || (cd packages/core && node -e "const D=require('better-sqlite3'); const d=new D(process.argv[1]); d.pragma('journal_mode=wal'); d.exec('CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, body TEXT)'); d.close()" "$LTS_ROOT/$db")
  echo "run: created an empty database at $db (table notes)" >&2
fi
echo "run: replicating $db to $replica (Ctrl-C stops after a final sync)" >&2
exec node packages/cli/bin/litestream.js replicate "$db" "$replica"
