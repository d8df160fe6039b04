package dev.iommulab.lab.run;

import dev.iommulab.core.fault.ResponseOrigin;
import dev.iommulab.hw.pci.PcieEndpoint;
import dev.iommulab.lab.machine.Machine;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The invariants of DESIGN.md §5 that this version checks after every run (linux-fault-stack.md §8b).
 */
final class Invariants {

    private final Machine machine;
    private final Observations obs;

    Invariants(Machine machine, Observations obs) {
        this.machine = machine;
        this.obs = obs;
    }

    List<RunResult.InvariantEntry> check() {
        return List.of(lpigAnsweredExactlyOnce(), nonLpigNeverAnswered(), creditsWithinAllocation());
    }

    /** §8b.1: every LPIG request reported to the core is answered exactly once (once the run is idle). */
    private RunResult.InvariantEntry lpigAnsweredExactlyOnce() {
        Map<String, Integer> balance = new HashMap<>();
        obs.reportedByDevice.forEach((dev, faults) -> faults.stream().filter(f -> f.lastPage())
                .forEach(f -> balance.merge(dev + " PASID " + f.pasid() + " grpid " + f.grpid(), 1, Integer::sum)));
        for (Observations.Decided d : obs.decided) {
            if (d.evt().lastPage() && d.origin() != ResponseOrigin.DRIVER) {
                balance.merge(d.dev().name() + " PASID " + d.evt().pasid() + " grpid " + d.evt().grpid(), -1,
                        Integer::sum);
            }
        }
        boolean idle = machine.loop().isIdle();
        List<String> bad = new ArrayList<>();
        balance.forEach((key, owed) -> {
            if (owed < 0 || (idle && owed > 0)) {
                bad.add(key + (owed < 0 ? " answered " + (-owed) + " extra time(s)" : " never answered"));
            }
        });
        bad.sort(String::compareTo);
        return entry("lpig-answered-exactly-once", bad, idle ? "" : "run not idle: unanswered groups may be in flight");
    }

    /** §8b.1: non-LPIG requests get no response, except the bad-setup INVALID quirk. */
    private RunResult.InvariantEntry nonLpigNeverAnswered() {
        List<String> bad = obs.decided.stream()
                .filter(d -> !d.evt().lastPage() && d.origin() != ResponseOrigin.BAD_SETUP
                        && d.origin() != ResponseOrigin.DRIVER)
                .map(d -> d.dev().name() + " grpid " + d.evt().grpid() + " answered by " + d.origin().label())
                .toList();
        return entry("non-lpig-never-answered", bad, "");
    }

    /** DESIGN.md §5: an endpoint never exceeds its PRI allocation. */
    private RunResult.InvariantEntry creditsWithinAllocation() {
        List<String> bad = new ArrayList<>();
        for (PcieEndpoint ep : machine.endpoints().values()) {
            if (ep.creditOverruns() > 0) {
                bad.add(ep.config().name() + " sent " + ep.creditOverruns() + " page request(s) beyond its allocation"
                        + " (peak " + ep.creditHighWater() + " outstanding)");
            }
        }
        return entry("pri-credits-within-allocation", bad, "");
    }

    private static RunResult.InvariantEntry entry(String name, List<String> violations, String note) {
        String detail = violations.isEmpty() ? note : String.join("; ", violations);
        return new RunResult.InvariantEntry(name, violations.isEmpty(), detail);
    }
}
