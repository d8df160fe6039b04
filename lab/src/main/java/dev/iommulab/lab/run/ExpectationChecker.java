package dev.iommulab.lab.run;

import dev.iommulab.lab.scenario.DeviceExpect;
import dev.iommulab.lab.scenario.DmaExpect;
import dev.iommulab.lab.scenario.Expectation;
import dev.iommulab.lab.scenario.FaultQueueExpect;
import dev.iommulab.lab.scenario.FaultReadExpect;
import dev.iommulab.lab.scenario.FaultRecordExpect;
import dev.iommulab.lab.scenario.FaultWriteExpect;
import dev.iommulab.lab.scenario.GuestExpect;
import dev.iommulab.lab.scenario.LogExpect;
import dev.iommulab.lab.scenario.ParkedExpect;
import dev.iommulab.lab.scenario.PageResponseExpect;
import dev.iommulab.lab.scenario.StepErrorExpect;
import dev.iommulab.lab.scenario.VirtioEventExpect;
import dev.iommulab.vfio.IommufdFault;
import java.util.List;
import java.util.Objects;

/** Evaluates a scenario's expectations against a run's result. */
final class ExpectationChecker {

    private final RunResult result;
    private final int steps;

    /** {@code steps}: how many steps the scenario has (its last step's sample is the end of the run). */
    ExpectationChecker(RunResult result, int steps) {
        this.result = result;
        this.steps = steps;
    }

    List<RunResult.ExpectationEntry> check(List<Expectation> expectations) {
        return expectations.stream().map(this::check).toList();
    }

    private RunResult.ExpectationEntry check(Expectation e) {
        if (e instanceof GuestExpect g) {
            RunResult.ExpectationEntry inner = check(g.expectation(), g.guest());
            return new RunResult.ExpectationEntry(e.describe(), inner.holds(), inner.seen());
        }
        return check(e, null);
    }

    /** {@code e} judged on what happened in {@code guest} (null: on the host). */
    private RunResult.ExpectationEntry check(Expectation e, String guest) {
        if (e instanceof PageResponseExpect p) {
            long n = result.pageResponses().stream().filter(r -> Objects.equals(r.guest(), guest)
                    && r.device().equals(p.device())
                    && r.code().equals(p.code()) && (p.origin() == null || p.origin().equals(r.origin()))
                    && (p.grpid() == null || p.grpid() == r.grpid())
                    && (p.pasid() == null || Objects.equals(p.pasid(), r.pasid()))).count();
            return counted(e, n, p.count());
        }
        if (e instanceof DmaExpect d) {
            long n = result.dma().stream().filter(x -> Objects.equals(x.guest(), guest)
                    && x.device().equals(d.device()) && x.status().equals(d.status())).count();
            return counted(e, n, d.count());
        }
        if (e instanceof FaultRecordExpect f) {
            long n = result.faultRecords().stream().filter(x -> Objects.equals(x.guest(), guest)
                    && x.device().equals(f.device())
                    && x.reason().equals(f.reason()) && (f.recorded() == null || f.recorded() == x.recorded())).count();
            return counted(e, n, f.count());
        }
        if (e instanceof DeviceExpect d) {
            return result.devices().stream().filter(x -> Objects.equals(x.guest(), guest) && x.name().equals(d.name()))
                    .findFirst()
                    .map(x -> {
                        boolean holds = (d.priEnabled() == null || d.priEnabled() == x.priEnabled())
                                && (d.priResponseFailure() == null || d.priResponseFailure() == x.priResponseFailure());
                        return new RunResult.ExpectationEntry(e.describe(), holds,
                                "pri-enabled " + x.priEnabled() + ", pri-response-failure " + x.priResponseFailure());
                    })
                    .orElse(new RunResult.ExpectationEntry(e.describe(), false, "no such device"));
        }
        if (e instanceof ParkedExpect p) {
            return parked(p);
        }
        if (e instanceof StepErrorExpect se) {
            long n = result.stepErrors().stream().filter(x -> se.matches(x.step(), x.errno())).count();
            return counted(e, n, se.count());
        }
        if (e instanceof FaultReadExpect fr) {
            return faultRead(fr);
        }
        if (e instanceof FaultWriteExpect fw) {
            long n = userspace(fw.process()).stream().flatMap(u -> u.responsesWritten().stream())
                    .filter(w -> (fw.by() == null || fw.by().equals(w.by()))
                            && (fw.code() == null || fw.code() == w.code())
                            && (fw.cookie() == null || fw.cookie() == w.cookie())
                            && (fw.accepted() == null || fw.accepted() == w.accepted())).count();
            return counted(e, n, fw.count());
        }
        if (e instanceof FaultQueueExpect fq) {
            return faultQueue(fq);
        }
        if (e instanceof VirtioEventExpect v) {
            long n = result.virtioEvents().stream().filter(x -> Objects.equals(x.guest(), guest)
                    && x.device().equals(v.device()) && x.reason().equals(v.reason())
                    && (v.delivered() == null || v.delivered() == x.delivered())).count();
            return counted(e, n, v.count());
        }
        if (e instanceof LogExpect l) {
            List<String> log = guest == null ? result.log() : result.guests().stream()
                    .filter(g -> g.name().equals(guest)).findFirst().map(RunResult.GuestEntry::log).orElse(List.of());
            boolean found = log.stream().anyMatch(line -> line.contains(l.contains()));
            return new RunResult.ExpectationEntry(e.describe(), found, found ? "found" : "not in the log");
        }
        throw new IllegalArgumentException("unknown expectation " + e);
    }

    private List<RunResult.UserspaceEntry> userspace(String process) {
        return result.userspace().stream().filter(u -> u.process().equals(process)).toList();
    }

    /** Records read, and the groups they belong to (one cookie per group and read). */
    private RunResult.ExpectationEntry faultRead(FaultReadExpect f) {
        List<RunResult.PgFaultEntry> records = userspace(f.process()).stream()
                .flatMap(u -> u.recordsRead().stream())
                .filter(r -> (f.by() == null || f.by().equals(r.by())) && (f.pasid() == null || f.pasid() == r.pasid())
                        && (f.grpid() == null || f.grpid() == r.grpid())
                        && (f.last() == null || f.last() == ((r.flags() & IommufdFault.FLAGS_LAST_PAGE) != 0)))
                .toList();
        long groups = records.stream().map(r -> r.read() + "/" + r.cookie()).distinct().count();
        boolean holds = (f.records() == null || f.records() == records.size())
                && (f.groups() == null || f.groups() == groups)
                && (f.records() != null || f.groups() != null || !records.isEmpty());
        return new RunResult.ExpectationEntry(f.describe(), holds,
                records.size() + " record(s), " + groups + " group(s)");
    }

    /** At the end: the userspace entry; after a step: the sample taken then (a process not used yet holds none). */
    private RunResult.ExpectationEntry faultQueue(FaultQueueExpect f) {
        int step = f.afterStep() != null ? f.afterStep() : steps;
        List<RunResult.FaultQueueEntry> at = result.faultQueueAfterSteps().stream()
                .filter(x -> x.afterStep() == step && x.process().equals(f.process())).toList();
        int unread = at.stream().mapToInt(RunResult.FaultQueueEntry::unread).sum();
        int unanswered = at.stream().mapToInt(RunResult.FaultQueueEntry::unanswered).sum();
        boolean holds = (f.unread() == null || f.unread() == unread)
                && (f.unanswered() == null || f.unanswered() == unanswered);
        return new RunResult.ExpectationEntry(f.describe(), holds, "unread " + unread + ", unanswered " + unanswered);
    }

    /** At the end: the devices entry (or its partials of one PASID); after a step: the sample taken then. */
    private RunResult.ExpectationEntry parked(ParkedExpect p) {
        List<RunResult.ParkedEntry> samples = result.parkedAfterSteps();
        int step = p.afterStep() != null ? p.afterStep() : steps;
        long n = samples.stream().filter(x -> x.afterStep() == step && x.device().equals(p.device())
                && (p.pasid() == null || Objects.equals(p.pasid(), x.pasid()))).mapToLong(RunResult.ParkedEntry::count)
                .sum();
        return counted(p, n, p.count());
    }

    private static RunResult.ExpectationEntry counted(Expectation e, long seen, Integer wanted) {
        boolean holds = wanted == null ? seen > 0 : seen == wanted;
        return new RunResult.ExpectationEntry(e.describe(), holds, Long.toString(seen));
    }
}
