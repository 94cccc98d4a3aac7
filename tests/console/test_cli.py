"""`kefu agents` and the demo's console logins, as an operator runs them."""

from tests.cli_runner import Cli


def test_agents_add_and_list(cli: Cli) -> None:
    added = cli("agents", "add", "Li.Hua@Example.com", "--role", "supervisor", "--name", "李华",
                stdin="a-strong-pass-1\n")
    assert "Created supervisor li.hua@example.com" in added.stdout
    listed = cli("agents", "list").stdout
    assert "li.hua@example.com\tsupervisor\tactive\t李华" in listed
    assert "a-strong-pass-1" not in listed
    again = cli("agents", "add", "li.hua@example.com", stdin="a-strong-pass-1\n", check=False)
    assert again.returncode == 1 and "already has an account" in again.stderr


def test_agents_add_refuses_bad_input(cli: Cli) -> None:
    weak = cli("agents", "add", "x@example.com", stdin="short\n", check=False)
    assert weak.returncode == 2 and "at least 10 characters" in weak.stderr
    role = cli("agents", "add", "x@example.com", "--role", "boss", stdin="a-strong-pass-1\n",
               check=False)
    assert role.returncode == 2 and "agent, supervisor, admin" in role.stderr


def test_demo_seed_prints_a_console_login(cli: Cli) -> None:
    first = cli("demo", "seed").stdout
    assert "agent@kefu.demo  password: demo-agent-2026" in first
    cli("demo", "seed")  # idempotent
    assert cli("agents", "list").stdout.count("@kefu.demo") == 3
