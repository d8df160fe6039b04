package dev.iommulab.lab.run;

import dev.iommulab.lab.machine.Machine;
import dev.iommulab.lab.machine.VfioProcess;
import dev.iommulab.vfio.PgFaultRecord;
import dev.iommulab.vfio.UserspaceDriver;
import java.util.ArrayList;
import java.util.List;

/** The {@code userspace} part of a run's result: one entry per process that used iommufd. */
final class UserspaceReport {

    private final Machine machine;

    UserspaceReport(Machine machine) {
        this.machine = machine;
    }

    List<RunResult.UserspaceEntry> entries() {
        List<RunResult.UserspaceEntry> out = new ArrayList<>();
        for (VfioProcess p : machine.userspaceProcesses().values()) {
            List<RunResult.PgFaultEntry> records = p.records().stream().map(UserspaceReport::record).toList();
            List<RunResult.PageResponseWritten> responses = p.responses().stream().map(w ->
                    new RunResult.PageResponseWritten(w.atNs(), w.by(), Integer.toUnsignedLong(w.cookie()),
                            Integer.toUnsignedLong(w.code()), codeName(w.code()), w.accepted(), w.error())).toList();
            UserspaceDriver.Stats s = p.driver().stats();
            out.add(new RunResult.UserspaceEntry(p.name(), p.response().mode(), p.response().readBytes(), p.devices(),
                    records, responses, new RunResult.ClientStats(s.groupsRead(), s.success(), s.invalid(),
                    s.rejected(), s.tooSmall()), p.unread(), p.unanswered(), p.faultFileOpen(), p.closed()));
        }
        return out;
    }

    private static RunResult.PgFaultEntry record(VfioProcess.RecordRead r) {
        PgFaultRecord f = r.record();
        return new RunResult.PgFaultEntry(r.atNs(), r.by(), r.read(), f.flags(), f.devId(), f.pasid(), f.grpid(),
                f.perm(), f.reserved(), String.format("%#x", f.addr()), f.length(), Integer.toUnsignedLong(f.cookie()));
    }

    /** {@code SUCCESS}, {@code INVALID}, or the number written. */
    static String codeName(int code) {
        return switch (code) {
            case 0 -> "SUCCESS";
            case 1 -> "INVALID";
            default -> Long.toString(Integer.toUnsignedLong(code));
        };
    }
}
