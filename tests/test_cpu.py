"""Free-core detection: /proc/stat parsing and the arithmetic, without timing anything."""

from __future__ import annotations

from pathlib import Path

from shopmind import cpu


def test_cpu_times_reads_the_aggregate_line(tmp_path: Path) -> None:
    stat = tmp_path / "stat"
    stat.write_text("cpu  100 5 50 800 20 3 2 0 0 0\ncpu0 50 2 25 400 10 1 1 0 0 0\n")
    assert cpu.cpu_times(str(stat)) == (980, 820)


def test_cpu_times_is_none_when_unreadable_or_foreign(tmp_path: Path) -> None:
    assert cpu.cpu_times(str(tmp_path / "missing")) is None
    odd = tmp_path / "odd"
    odd.write_text("intr 1 2 3\n")
    assert cpu.cpu_times(str(odd)) is None


def test_free_cores_counts_idle_plus_own_use() -> None:
    # one core idle, this process busy on the other: both are ours to use
    assert cpu.free_cores(2, idle_share=0.5, own_share=1.0) == 2
    # somebody else holds one core, nothing idle besides ours
    assert cpu.free_cores(2, idle_share=0.0, own_share=1.0) == 1
    # a fully busy machine still gets one thread
    assert cpu.free_cores(8, idle_share=0.0, own_share=0.0) == 1


def test_idle_cores_falls_back_to_the_load_average(monkeypatch) -> None:
    monkeypatch.setattr(cpu, "cpu_times", lambda path="/proc/stat": None)
    monkeypatch.setattr(cpu, "_SAMPLER", cpu._Sampler())
    monkeypatch.setattr(cpu.os, "cpu_count", lambda: 4)
    monkeypatch.setattr(cpu.os, "getloadavg", lambda: (2.2, 0.0, 0.0))
    monkeypatch.setattr(cpu._SAMPLER, "shares_now", lambda: (None, 0.0))
    assert cpu.idle_cores() == 2


def test_machine_info_names_the_cpu_and_its_matrix_units(tmp_path: Path) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Processor\n"
                    "flags\t\t: fpu avx2 avx512f amx_bf16\n\nprocessor\t: 1\n"
                    "model name\t: Intel(R) Xeon(R) Processor\nflags\t\t: fpu avx2\n")
    got = cpu.machine_info(str(info))
    assert got["cpu"] == "Intel(R) Xeon(R) Processor"
    assert got["isa"] == ["avx2", "avx512f", "amx_bf16"]  # the first core's line
