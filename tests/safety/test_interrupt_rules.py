"""What each signal means in each phase of a run (the handler called directly, no signal sent)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from conformance.plugin.interrupts import SKIP_CLEANUP, STOP, Interrupts

INT, TERM = signal.SIGINT.value, signal.SIGTERM.value


def test_the_first_signal_stops_the_tests_and_names_itself() -> None:
    interrupts = Interrupts()
    with pytest.raises(KeyboardInterrupt):
        interrupts.handle(TERM, None)
    assert (interrupts.signal, interrupts.skip_cleanup) == ("SIGTERM", False)


def test_a_first_signal_after_the_tests_is_noted_and_the_cleanup_goes_on() -> None:
    interrupts = Interrupts()
    interrupts.tests_over()
    with interrupts.cleaning():
        interrupts.handle(INT, None)  # the cleanup runs on
    assert (interrupts.signal, interrupts.skip_cleanup) == ("SIGINT", False)


def test_a_second_signal_stops_the_cleanup_and_later_ones_are_ignored() -> None:
    interrupts = Interrupts()
    with pytest.raises(KeyboardInterrupt):
        interrupts.handle(INT, None)
    interrupts.tests_over()
    with pytest.raises(KeyboardInterrupt), interrupts.cleaning():
        interrupts.handle(INT, None)
    assert interrupts.skip_cleanup
    # While the reports are written nothing stops the run any more.
    interrupts.handle(INT, None)
    interrupts.handle(TERM, None)
    with interrupts.cleaning():
        interrupts.handle(INT, None)


def test_a_second_signal_before_the_cleanup_skips_it_without_raising() -> None:
    interrupts = Interrupts()
    with pytest.raises(KeyboardInterrupt):
        interrupts.handle(INT, None)
    interrupts.tests_over()
    interrupts.handle(INT, None)
    assert interrupts.skip_cleanup


def create_in_flight(interrupts: Interrupts, *signals: int) -> list[str]:
    """``signals`` arrive while a create is on its way: whether it got its answer, then the interrupt."""
    events: list[str] = []
    try:
        with interrupts.shielded():
            for sent in signals:
                interrupts.handle(sent, None)
            events.append("answered")
    except KeyboardInterrupt:
        events.append("interrupted")
    return events


def test_a_create_in_flight_gets_its_answer_before_the_interrupt() -> None:
    interrupts = Interrupts()
    assert create_in_flight(interrupts, INT) == ["answered", "interrupted"]
    assert not interrupts.skip_cleanup


def test_a_second_signal_abandons_the_create_in_flight() -> None:
    interrupts = Interrupts()
    assert create_in_flight(interrupts, INT, INT) == ["interrupted"]
    assert interrupts.skip_cleanup


def test_the_run_s_own_signals_are_taken_once_however_often_they_come() -> None:
    interrupts = Interrupts()
    passed: list[signal.Signals] = []
    interrupts.forward = passed.append
    with pytest.raises(KeyboardInterrupt):
        interrupts.handle(INT, None)  # from the terminal
    interrupts.handle(STOP, None)  # the same news from the controller
    interrupts.tests_over()
    assert not interrupts.skip_cleanup
    interrupts.handle(SKIP_CLEANUP, None)
    assert interrupts.skip_cleanup
    interrupts.handle(INT, None)
    assert passed == [STOP, SKIP_CLEANUP]


def test_a_worker_told_first_to_skip_stops_at_once() -> None:
    interrupts = Interrupts()
    assert create_in_flight(interrupts, SKIP_CLEANUP) == ["interrupted"]
    assert (interrupts.signal, interrupts.skip_cleanup) == ("SIGINT", True)


def test_only_the_main_thread_is_shielded() -> None:
    interrupts = Interrupts()
    errors: list[BaseException] = []

    def create() -> None:
        try:
            with interrupts.shielded():
                pass
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=create)
    thread.start()
    thread.join()
    assert errors == []
    with pytest.raises(KeyboardInterrupt):
        interrupts.handle(INT, None)  # no shield was left behind by the thread


def signal_this_process(sent: signal.Signals) -> None:
    os.kill(os.getpid(), sent)
    time.sleep(1)  # the handler runs at the next bytecode; the sleep is cut short


def test_handlers_are_installed_for_the_block_and_put_back() -> None:
    interrupts = Interrupts()
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, STOP, SKIP_CLEANUP)}
    with interrupts.installed():
        assert signal.getsignal(signal.SIGTERM) == interrupts.handle
        assert signal.getsignal(STOP) == interrupts.handle
        with pytest.raises(KeyboardInterrupt):
            signal_this_process(signal.SIGTERM)
    assert {sig: signal.getsignal(sig) for sig in before} == before


def test_an_orphan_interrupts_itself_when_its_parent_dies() -> None:
    """A child that watches its parent: the parent is killed, the child gets STOP and says so."""
    code = (
        "import os, signal, sys, time\n"
        "from conformance.plugin.interrupts import STOP, watch_parent\n"
        "signal.signal(STOP, lambda *a: (print('stopped', flush=True), sys.exit(0)))\n"
        "watch_parent(os.getppid(), poll_s=0.05)\n"
        "print('watching', flush=True)\n"
        "time.sleep(30)\n"
        "print('not stopped', flush=True)\n"
    )
    # The parent is a shell that starts the child and waits; killing the shell orphans the child.
    parent = subprocess.Popen(
        ["sh", "-c", f'"{sys.executable}" -c "$0"; sleep 30', code],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert parent.stdout is not None
    assert parent.stdout.readline().strip() == "watching"
    parent.kill()
    parent.wait()
    assert parent.stdout.readline().strip() == "stopped"
