"""KnownTerms answers from memory only while the log has no gap since the terms were read."""

from smarketing.store.known_terms import KnownTerms


class Reads:
    def __init__(self, *answers: dict) -> None:
        self.answers, self.count = list(answers), 0

    def __call__(self) -> dict:
        self.count += 1
        return self.answers.pop(0)


def test_the_first_call_reads_and_later_contiguous_saves_do_not() -> None:
    known, read = KnownTerms(), Reads({"scoring": {"mode": "off"}})
    known.saw_saved([10])
    assert known.after_save([10], read) == {"scoring": {"mode": "off"}}
    for position in (11, 12, 13):
        known.saw_saved([position])
        assert known.after_save([position], read) == {"scoring": {"mode": "off"}}
    assert read.count == 1


def test_a_gap_in_positions_means_one_read() -> None:
    known = KnownTerms()
    read = Reads({"scoring": {"mode": "off"}}, {"scoring": {"mode": "auto_promote"}})
    known.after_save([10], read)
    known.saw_saved([12])  # 11 was written by someone else: perhaps a change of terms
    assert known.after_save([12], read) == {"scoring": {"mode": "auto_promote"}}
    assert read.count == 2
    known.saw_saved([13, 14])  # a save of two events right after
    assert known.after_save([13, 14], read)["scoring"]["mode"] == "auto_promote"
    assert read.count == 2


def test_saves_that_skip_the_terms_check_still_carry_the_position_forward() -> None:
    known, read = KnownTerms(), Reads({"s": {}})
    known.after_save([5], read)
    for position in range(6, 50):  # e.g. interactions on leads past stage Lead
        known.saw_saved([position])
    assert known.after_save([49], read) == {"s": {}} and read.count == 1


def test_an_older_read_never_replaces_a_newer_one() -> None:
    known = KnownTerms()
    known.after_save([20], Reads({"scoring": {"mode": "new"}}))
    # A thread whose save was at 15 finishes its (older) read only now.
    assert known.after_save([15], Reads({"scoring": {"mode": "old"}}))["scoring"]["mode"] == "new"
    known.saw_saved([21])
    assert known.after_save([21], Reads())["scoring"]["mode"] == "new"


def test_callers_cannot_change_the_kept_terms() -> None:
    known = KnownTerms()
    known.after_save([1], Reads({"scoring": {"mode": "off"}}))["scoring"]["mode"] = "changed"
    known.saw_saved([2])
    handed = known.after_save([2], Reads())
    assert handed["scoring"]["mode"] == "off"
    handed["scoring"]["mode"] = "changed again"
    known.saw_saved([3])
    assert known.after_save([3], Reads())["scoring"]["mode"] == "off"


def test_no_positions_means_a_read() -> None:
    read = Reads({"a": {}})
    assert KnownTerms().after_save([], read) == {"a": {}} and read.count == 1
