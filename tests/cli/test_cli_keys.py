"""`budget keys` through the real `budget` entry point: the new key alone on the last line, the
database holds only its hash, and the key authenticates until it is revoked."""

from __future__ import annotations

import json

from cli.main import main
from db.engine import session_scope
from db.keys import authenticate
from db.migrate import upgrade


def test_keys_create_list_revoke_through_budget(capsys, own_data) -> None:
    """create prints the key alone on its last stdout line; list never shows it; revoke ends it."""
    from config import get_settings

    url = get_settings().database_url
    upgrade(url)
    assert main(["keys", "create", "alice", "--name", "laptop"]) == 0
    out = capsys.readouterr().out
    key = out.strip().splitlines()[-1]
    assert key.startswith("bk_") and " " not in key
    with session_scope(url) as s:
        found = authenticate(session=s, key=key)
        assert found is not None and found.owner_id == "alice"
    assert main(["keys", "list", "--json"]) == 0
    listed = capsys.readouterr().out
    assert key not in listed and "alice" in listed
    (entry,) = json.loads(listed)["keys"]
    assert (entry["owner"], entry["name"], entry["admin"]) == ("alice", "laptop", False)
    prefix = entry["prefix"]
    assert key.startswith(prefix)
    assert main(["keys", "revoke", prefix]) == 0
    with session_scope(url) as s:
        assert authenticate(session=s, key=key) is None
