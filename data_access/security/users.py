"""Local accounts, password sign-in with lock-out, and wall-screen device tokens; the ``users`` CLI.

This module is the command line only; what it calls lives beside it: ``accounts`` (the store, password
hashes and rules, account management), ``logins`` (password sign-in, lock-out, a session's re-check),
``tokens`` (wall-screen device tokens) and ``demo_users`` (the demo database's accounts).

``python -m data_access.security.users [--url URL] COMMAND``:

* ``add NAME --role ROLE [--scope department=A,B] [--scope region=330102] [--grant unmasked] --password-stdin``
  (a ``screen`` account takes no password: it signs in with a device token);
* ``passwd NAME --password-stdin``, ``disable NAME``, ``enable NAME``, ``unlock NAME``;
* ``grant NAME [--role ROLE] [--scope …] [--city-wide] [--grant PERM] [--revoke PERM]``;
* ``list``;
* ``token issue NAME [--label TEXT] [--days N]``, ``token revoke TOKEN_ID``, ``token list``.

On the embedded DuckDB file the app holds the file open: stop the app before running the CLI.
"""

from __future__ import annotations

import argparse
import getpass
import sys

import polars as pl
import sqlalchemy as sa

from data_access.runtime import engine as db
from data_access.security import audit
from data_access.security.access import AccessProblem, describe_scope, local_now, parse_scope, role_key
from data_access.security.accounts import (
    Account,
    UserProblem,
    add_user,
    grant,
    list_accounts,
    set_disabled,
    set_password,
    unlock,
)
from data_access.security.tokens import issue_token, list_tokens, revoke_token
from data_access.semantic.query import Scope

# ---- command line -----------------------------------------------------------------------------------------


def _read_password(prompt_name: str) -> str:
    line = sys.stdin.readline()
    password = line[:-1] if line.endswith("\n") else line
    if not password:
        raise UserProblem(f"no password on standard input for {prompt_name!r}")
    return password


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m data_access.security.users", description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="database URL (default: as the app finds it)")
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add", help="create an account")
    add.add_argument("name")
    add.add_argument("--role", required=True, help="leader, department_head, analyst, admin, screen (or 领导 …)")
    add.add_argument("--scope", action="append", default=[], help="department=CODE[,CODE…] or region=CODE[,CODE…]")
    add.add_argument("--grant", action="append", default=[], help="extra permission: export, unmasked")
    add.add_argument("--display-name")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    passwd = commands.add_parser("passwd", help="set a new password (also unlocks)")
    passwd.add_argument("name")
    passwd.add_argument("--password-stdin", action="store_true", required=True)
    for command in ("disable", "enable", "unlock"):
        commands.add_parser(command, help=f"{command} an account").add_argument("name")
    change = commands.add_parser("grant", help="change role, scope or extra permissions")
    change.add_argument("name")
    change.add_argument("--role")
    change.add_argument("--scope", action="append", default=[], help="replaces the whole scope")
    change.add_argument("--city-wide", action="store_true", help="remove every scope restriction")
    change.add_argument("--grant", action="append", default=[], dest="allow", help="add: export, unmasked")
    change.add_argument("--revoke", action="append", default=[], help="remove: export, unmasked")
    commands.add_parser("list", help="list accounts")
    token = commands.add_parser("token", help="wall-screen device tokens").add_subparsers(dest="token", required=True)
    issue = token.add_parser("issue", help="issue a token for a screen account (printed once)")
    issue.add_argument("name")
    issue.add_argument("--label")
    issue.add_argument("--days", type=int, help="valid for this many days (default: until revoked)")
    token.add_parser("revoke", help="revoke a token").add_argument("token_id")
    token.add_parser("list", help="list tokens (never the secrets)")
    return parser


def _print_accounts(accounts: list[Account]) -> None:
    if not accounts:
        print("no accounts (sign-in is off)")
        return
    now = local_now()
    for account in accounts:
        state = "disabled" if account.disabled else "enabled"
        if account.locked_until is not None and account.locked_until > now:
            state += f", locked until {account.locked_until:%Y-%m-%d %H:%M}"
        grants = ",".join(sorted(account.grants)) or "-"
        last = f"{account.last_login_at:%Y-%m-%d %H:%M}" if account.last_login_at else "never"
        print(f"{account.name}\t{account.role}\t{describe_scope(account.scope)}\tgrants={grants}\t{state}\tlast={last}")


def run_command(engine: sa.Engine, args: argparse.Namespace, actor: str) -> None:
    command = args.command
    if command == "add":
        if args.password_stdin and role_key(args.role) == "screen":
            raise UserProblem("a screen (大屏) account signs in with a device token, not a password")
        password = _read_password(args.name) if args.password_stdin else None
        account = add_user(
            engine,
            args.name,
            args.role,
            password=password,
            scope=parse_scope(args.scope),
            grants=args.grant,
            display_name=args.display_name,
            actor=actor,
        )
        print(f"added {account.name} ({account.role}, {describe_scope(account.scope)})")
    elif command == "passwd":
        set_password(engine, args.name, _read_password(args.name), actor=actor)
        print(f"password of {args.name} changed")
    elif command in ("disable", "enable"):
        set_disabled(engine, args.name, command == "disable", actor=actor)
        print(f"{args.name} {command}d")
    elif command == "unlock":
        unlock(engine, args.name, actor=actor)
        print(f"{args.name} unlocked")
    elif command == "grant":
        if args.city_wide and args.scope:
            raise UserProblem("--city-wide and --scope contradict each other")
        scope = Scope() if args.city_wide else (parse_scope(args.scope) if args.scope else None)
        account = grant(
            engine, args.name, actor=actor, role=args.role, scope=scope, allow=args.allow, revoke=args.revoke
        )
        grants = ",".join(sorted(account.grants)) or "-"
        print(f"{account.name}: {account.role}, {describe_scope(account.scope)}, grants={grants}")
    elif command == "list":
        _print_accounts(list_accounts(engine))
    elif args.token == "issue":
        token_id, token = issue_token(engine, args.name, actor=actor, label=args.label, days=args.days)
        print(f"token {token_id} for {args.name} (shown only now; store it in the wall screen's start URL):")
        print(token)
        print(f"URL: http://HOST:8501/?kiosk=1&screen_token={token}")
    elif args.token == "revoke":
        revoke_token(engine, args.token_id, actor=actor)
        print(f"token {args.token_id} revoked")
    else:
        with pl.Config(tbl_rows=-1, tbl_width_chars=200):
            print(list_tokens(engine))


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    actor = f"cli:{getpass.getuser()}"
    target = None
    try:
        target = db.resolve_target(args.url)
        engine = db.get_engine(target.url)
        db.check_connection(engine)
        run_command(engine, args, actor)
    except (UserProblem, AccessProblem, audit.AuditProblem) as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    except db.DatabaseProblem as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    except sa.exc.SQLAlchemyError as exc:
        reason = db.database_reason(exc)
        print(f"error: {reason}", file=sys.stderr)
        if "lock" in reason.lower():
            print("the app holds the embedded DuckDB file open: stop it, then run this again", file=sys.stderr)
        return 2
    finally:
        if target is not None:
            db.dispose_engine(target.url)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
