package dev.iommulab.lab.run;

import dev.iommulab.core.Device;
import dev.iommulab.core.fault.IommuFault;
import dev.iommulab.core.fault.IopfGroup;
import dev.iommulab.hw.pci.PcieEndpoint;
import dev.iommulab.hw.viommu.VirtioIommu;
import dev.iommulab.lab.machine.Machine;
import dev.iommulab.lab.machine.VfioProcess;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The invariants of DESIGN.md §5 and linux-fault-stack.md §8b that the lab can observe, checked after
 * every run. A violation names the group (device, PASID, grpid) and the scenario step that was running.
 */
final class Invariants {

    private final Machine machine;
    private final Observations obs;
    private final RequestLedger ledger;

    Invariants(Machine machine, Observations obs) {
        this.machine = machine;
        this.obs = obs;
        this.ledger = obs.ledger;
    }

    List<RunResult.InvariantEntry> check() {
        List<RunResult.InvariantEntry> out = new ArrayList<>(List.of(lpigAnsweredExactlyOnce(),
                nonLpigNeverAnswered(), responseAddressedByLpig(), groupHoldsEarlierPartials(), faultParamUsers(),
                nothingOutlivesRemoveDevice(), responseCodesByOrigin(), creditsWithinAllocation()));
        out.addAll(new MemoryInvariants(machine, obs).check());
        out.add(iommufdGroupsHeldOnce());
        if (machine.hardware() instanceof VirtioIommu v && obs.guestDma != null) {
            out.addAll(new ViommuInvariants(machine, v, obs.guestDma).check());
        }
        return out;
    }

    static String group(Device dev, IommuFault f) {
        return GroupId.of(dev, f).toString();
    }

    /**
     * A page request group as violations name it (device, PASID or none, grpid): a map key made without building
     * its text, which only a violation needs.
     */
    record GroupId(String device, Integer pasid, int grpid) {

        static GroupId of(Device dev, IommuFault f) {
            return new GroupId(dev.name(), f.pasidValid() ? f.pasid() : null, f.grpid());
        }

        @Override
        public String toString() {
            return device + " PASID " + (pasid == null ? "-" : pasid.toString()) + " grpid " + grpid;
        }
    }

    /**
     * §8b.1: every LPIG request reported to the core is answered exactly once (once the run is idle). A group an
     * iommufd fault object still holds when the run ends (unread, or read and unanswered — e.g. under
     * {@code vfio.user-response: never}) is owed, not lost: it is counted as "owed at end" in the detail, and its
     * teardown would answer it; a group nobody holds and nobody answered is a violation.
     */
    private RunResult.InvariantEntry lpigAnsweredExactlyOnce() {
        Map<GroupId, Integer> held = new LinkedHashMap<>();
        Map<GroupId, String> holder = new LinkedHashMap<>();
        machine.userspaceProcesses().forEach((name, p) -> p.held().forEach(g -> {
            GroupId key = GroupId.of(g.device(), g.lastFault());
            held.merge(key, 1, Integer::sum);
            holder.putIfAbsent(key, name);
        }));
        boolean idle = machine.loop().isIdle();
        List<String> bad = new ArrayList<>();
        List<String> owedAtEnd = new ArrayList<>();
        ledger.forEachOwed((key, owed, step) -> {
            int kept = Math.min(Math.max(owed, 0), held.getOrDefault(key, 0));
            if (idle && kept > 0) {
                owedAtEnd.add(key + (kept > 1 ? " x" + kept : "") + " (held by " + holder.get(key)
                        + "'s fault object)");
            }
            int lost = owed - kept;
            if (lost < 0 || (idle && lost > 0)) {
                bad.add(key + (lost < 0 ? " answered " + (-lost) + " extra time(s)" : " never answered")
                        + " (step " + step + ")");
            }
        });
        String note = !idle ? "run not idle: unanswered groups may be in flight"
                : owedAtEnd.isEmpty() ? "" : "owed at end: " + owedAtEnd.size() + " group(s) still queued in iommufd: "
                + String.join(", ", owedAtEnd);
        return entry("lpig-answered-exactly-once", bad, note);
    }

    /**
     * §8b.4: a group an iommufd fault object holds is in exactly one place — the deliver list or the response table
     * of one fault object, once — and has not been answered by anyone; the records read of one group all carry its
     * cookie, and no cookie is handed out twice within one read.
     */
    private RunResult.InvariantEntry iommufdGroupsHeldOnce() {
        List<String> bad = new ArrayList<>();
        Set<IommuFault> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        int groups = 0;
        for (VfioProcess p : machine.userspaceProcesses().values()) {
            for (IopfGroup g : p.held()) {
                groups++;
                String name = group(g.device(), g.lastFault()) + " in " + p.name() + "'s fault object";
                if (!seen.add(g.lastFault())) {
                    bad.add(name + " is held twice");
                }
                if (ledger.answeredOrSettled(g.lastFault())) {
                    bad.add(name + " was answered already but is still held");
                }
            }
            Map<String, Integer> grpidOfCookie = new LinkedHashMap<>();
            for (VfioProcess.RecordRead r : p.records()) {
                String key = r.read() + "/" + r.record().cookie();
                Integer before = grpidOfCookie.putIfAbsent(key, r.record().grpid());
                if (before != null && before != r.record().grpid()) {
                    bad.add(p.name() + ": read " + r.read() + " gave cookie " + r.record().cookie() + " to grpid "
                            + before + " and grpid " + r.record().grpid());
                }
                if (r.record().cookie() == 0) {
                    bad.add(p.name() + ": read " + r.read() + " gave cookie 0 (cookies start at 1)");
                }
            }
        }
        return entry("iommufd-groups-held-once", bad, machine.userspaceProcesses().isEmpty() ? "no iommufd in this run"
                : groups + " group(s) held at the end");
    }

    /** §8b.1: non-LPIG requests get no response, except the bad-setup INVALID quirk. */
    private RunResult.InvariantEntry nonLpigNeverAnswered() {
        return entry("non-lpig-never-answered", obs.visit(ledger.nonLpigAnswered), "");
    }

    /**
     * §8b.2: a response carries the pasid/grpid of the LPIG request of a group handed to a handler (SVA and iommufd
     * answer only such requests).
     */
    private RunResult.InvariantEntry responseAddressedByLpig() {
        return entry("response-addressed-by-lpig", obs.visit(ledger.misaddressed), "");
    }

    /** §8b.2: a group holds every earlier partial of its grpid, in arrival order, the LPIG last. */
    private RunResult.InvariantEntry groupHoldsEarlierPartials() {
        return entry("group-holds-earlier-partials", obs.visit(ledger.badGroups), "");
    }

    /** §8b.3: fault_param users = 1 + live groups, sampled before every step and at the end of the run. */
    private RunResult.InvariantEntry faultParamUsers() {
        return entry("fault-param-users", obs.usersMismatches, "");
    }

    /** §3.5, DESIGN §5: after iopf_queue_remove_device no partial or group of the device lives on. */
    private RunResult.InvariantEntry nothingOutlivesRemoveDevice() {
        return entry("nothing-outlives-remove-device", ledger.outlivedRemoval(), "");
    }

    /** §8b.7: who may send which code. */
    private RunResult.InvariantEntry responseCodesByOrigin() {
        return entry("response-codes-by-origin", obs.visit(ledger.codesByOrigin), "");
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

    static RunResult.InvariantEntry entry(String name, List<String> violations, String note) {
        String detail = violations.isEmpty() ? note : String.join("; ", violations);
        return new RunResult.InvariantEntry(name, violations.isEmpty(), detail);
    }
}
