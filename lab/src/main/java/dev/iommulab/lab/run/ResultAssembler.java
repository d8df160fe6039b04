package dev.iommulab.lab.run;

import dev.iommulab.core.Device;
import dev.iommulab.core.kernel.KernelLog;
import dev.iommulab.drivers.virtio.ViommuDriver;
import dev.iommulab.hw.iommu.HwFault;
import dev.iommulab.hw.iommu.PrgResponseCode;
import dev.iommulab.hw.pci.DmaOutcome;
import dev.iommulab.hw.pci.DmaStatus;
import dev.iommulab.hw.pci.PcieEndpoint;
import dev.iommulab.hw.pci.PriState;
import dev.iommulab.hw.viommu.ViommuEvent;
import dev.iommulab.hw.viommu.ViommuFault;
import dev.iommulab.hw.viommu.ViommuWire;
import dev.iommulab.hw.viommu.VirtioIommu;
import dev.iommulab.lab.machine.Machine;
import dev.iommulab.lab.scenario.Scenario;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.IntStream;

/**
 * Turns what a run observed into a {@link RunResult}: the host's machine first, then each guest's, every entry
 * naming the guest it came from (null for the host).
 */
final class ResultAssembler {

    /** One machine of the run: the host ({@code guest} null) or a guest. */
    private record Part(String guest, Machine machine, Observations obs) {
    }

    /** The JSON spellings of the 4-bit PRG response codes, made once. */
    private static final String[] WIRE_CODES = IntStream.range(0, 16)
            .mapToObj(c -> String.format("%#x", c)).toArray(String[]::new);

    private final Scenario scenario;
    private final Machine machine;
    private final Observations obs;
    private final JourneyRecorder journey;
    private final List<RunResult.StepErrorEntry> errors;
    private final List<GuestRun> guests;
    private final List<Part> parts = new ArrayList<>();

    ResultAssembler(Scenario scenario, Machine machine, Observations obs, JourneyRecorder journey,
                    List<RunResult.StepErrorEntry> errors, List<GuestRun> guests) {
        this.scenario = scenario;
        this.machine = machine;
        this.obs = obs;
        this.journey = journey;
        this.errors = errors;
        this.guests = guests;
        parts.add(new Part(null, machine, obs));
        guests.forEach(g -> parts.add(new Part(g.name(), g.machine(), g.observations())));
    }

    /** What every machine contributes, the host's first; the host's list itself (a lazy view) when it is alone. */
    private <T> List<T> join(Function<Part, List<T>> of) {
        if (parts.size() == 1) {
            return of.apply(parts.get(0));
        }
        List<T> out = new ArrayList<>();
        parts.forEach(p -> out.addAll(of.apply(p)));
        return out;
    }

    RunResult assemble() {
        List<RunResult.PageResponseEntry> responses = join(this::pageResponses);
        List<RunResult.DmaEntry> dma = join(this::dma);
        List<RunResult.FaultRecordEntry> faults = join(this::faultRecords);
        List<RunResult.VirtioEventEntry> virtioEvents = join(this::virtioEvents);
        List<RunResult.DeviceEntry> devices = join(this::devices);
        List<String> log = formatted(machine);
        List<RunResult.GuestEntry> guestEntries = guests.stream().map(ResultAssembler::guest).toList();
        List<RunResult.InvariantEntry> invariants = join(this::invariants);
        List<RunResult.UserspaceEntry> userspace = new UserspaceReport(machine).entries();
        RunResult partial = new RunResult(scenario.name(), scenario.seed(), scenario.hardware().model(),
                scenario.kernel(), scenario.policies(), "pending", machine.loop().now(), responses, dma, faults,
                virtioEvents, devices, userspace, log, guestEntries, List.copyOf(errors), invariants, List.of(),
                counters(), journey.shown(), serviceLatencies(), obs.parkedAfterSteps(), obs.faultQueuesAfterSteps(),
                journey.stepsByLayer());
        List<RunResult.ExpectationEntry> expectations = new ExpectationChecker(partial, scenario.steps().size())
                .check(scenario.expectations());
        boolean pass = errors.stream().allMatch(RunResult.StepErrorEntry::expected)
                && invariants.stream().allMatch(RunResult.InvariantEntry::holds)
                && expectations.stream().allMatch(RunResult.ExpectationEntry::holds);
        return new RunResult(partial.scenario(), partial.seed(), partial.hardware(), partial.kernel(),
                partial.policies(), pass ? "pass" : "fail", partial.simulatedNs(), responses, dma, faults,
                virtioEvents, devices, userspace, log, guestEntries, partial.stepErrors(), invariants, expectations,
                partial.counters(), partial.journey(), partial.serviceLatenciesNs(), partial.parkedAfterSteps(),
                partial.faultQueueAfterSteps(), partial.journeyStepsByLayer());
    }

    private static List<String> formatted(Machine m) {
        return m.log().lines().stream().map(KernelLog.Line::formatted).toList();
    }

    private static RunResult.GuestEntry guest(GuestRun g) {
        VirtioIommu viommu = g.machine().hardware() instanceof VirtioIommu v ? v : null;
        boolean hung = g.machine().ops() instanceof ViommuDriver d && d.hung();
        return new RunResult.GuestEntry(g.name(), formatted(g.machine()),
                viommu == null ? List.of() : viommu.vmmLog(), viommu != null && viommu.needsReset(), hung);
    }

    /** The machine's invariants; a guest's are named after it ({@code vm0/guest-dma-within-mappings}). */
    private List<RunResult.InvariantEntry> invariants(Part p) {
        List<RunResult.InvariantEntry> checked = new Invariants(p.machine(), p.obs()).check();
        return p.guest() == null ? checked : checked.stream().map(i -> new RunResult.InvariantEntry(
                p.guest() + "/" + i.name(), i.holds(), i.detail())).toList();
    }

    private List<Long> serviceLatencies() {
        List<Long> out = new ArrayList<>();
        obs.visit(obs.dma).stream().filter(i -> i.outcome != null).forEach(i -> out.add(i.outcome.latencyNs()));
        out.addAll(obs.rawServiceLatencies);
        return List.copyOf(out);
    }

    /**
     * The responses as the result lists them: a read-only view of what was observed, each entry made when it is
     * read (the JSON writer streams a million of them without a second million-entry list).
     */
    private List<RunResult.PageResponseEntry> pageResponses(Part p) {
        List<Observations.Delivered> delivered = p.obs().visit(p.obs().delivered);
        return new AbstractList<>() {
            @Override
            public RunResult.PageResponseEntry get(int index) {
                Observations.Delivered d = delivered.get(index);
                return new RunResult.PageResponseEntry(d.atNs(), d.device(),
                        d.response().pasidPresent() ? d.response().pasid() : null, d.response().prgi(),
                        pcieCode(d.response().code()), wireCode(d.response().wireCode()), d.origin().label(),
                        d.latencyNs(), p.guest());
            }

            @Override
            public int size() {
                return delivered.size();
            }
        };
    }

    /** The wire code as the JSON spells it, {@code 0x0}..{@code 0xf}. */
    private static String wireCode(int code) {
        return code >= 0 && code < WIRE_CODES.length ? WIRE_CODES[code] : String.format("%#x", code);
    }


    static String pcieCode(PrgResponseCode code) {
        return switch (code) {
            case SUCCESS -> "SUCCESS";
            case INVALID_REQUEST -> "INVALID";
            case RESPONSE_FAILURE -> "FAILURE";
        };
    }

    private List<RunResult.DmaEntry> dma(Part p) {
        List<RunResult.DmaEntry> out = new ArrayList<>();
        for (Observations.DmaItem item : p.obs().visit(p.obs().dma)) {
            DmaOutcome o = item.outcome;
            DmaStatus status = o == null ? DmaStatus.PENDING : o.status();
            out.add(new RunResult.DmaEntry(item.device, item.pasid, String.format("%#x", item.job.addr()),
                    item.job.size(), item.job.access().name().toLowerCase(Locale.ROOT), status.label(),
                    o == null ? null : o.latencyNs(),
                    o == null || o.faultAddr() < 0 ? null : String.format("%#x", o.faultAddr()), item.memoryMatches,
                    p.guest()));
        }
        return out;
    }

    private List<RunResult.FaultRecordEntry> faultRecords(Part p) {
        List<RunResult.FaultRecordEntry> out = new ArrayList<>();
        for (HwFault f : p.machine().faultRecorder().faults()) {
            String device = deviceName(p.machine(), f.rid());
            out.add(new RunResult.FaultRecordEntry(f.atNs(), device, f.pasid() < 0 ? null : f.pasid(),
                    String.format("%#x", f.addr()), f.access().name().toLowerCase(Locale.ROOT), f.reason().name(),
                    String.format("%#x", f.vendorCode()), f.recorded(), f.coalesced(), p.guest()));
        }
        return out;
    }

    /** The name of the machine's device with requester ID {@code rid}, else the RID in hex. */
    private static String deviceName(Machine m, int rid) {
        return m.endpoints().values().stream().filter(e -> e.rid() == rid).map(e -> e.config().name()).findFirst()
                .orElse(String.format("%04x", rid));
    }

    private List<RunResult.VirtioEventEntry> virtioEvents(Part p) {
        List<RunResult.VirtioEventEntry> out = new ArrayList<>();
        for (ViommuEvent e : p.machine().faultRecorder().virtioEvents()) {
            ViommuFault f = e.fault();
            out.add(new RunResult.VirtioEventEntry(e.atNs(), p.guest(), deviceName(p.machine(), f.endpoint()),
                    f.endpoint(), f.reason().name(), flags(f.flags()), String.format("%#x", f.address()),
                    e.delivered(), e.delayNs()));
        }
        return out;
    }

    /** A fault record's flags by name, {@code READ|ADDRESS}; {@code none} without any. */
    static String flags(int flags) {
        List<String> names = new ArrayList<>();
        if ((flags & ViommuWire.FAULT_F_READ) != 0) {
            names.add("READ");
        }
        if ((flags & ViommuWire.FAULT_F_WRITE) != 0) {
            names.add("WRITE");
        }
        if ((flags & ViommuWire.FAULT_F_EXEC) != 0) {
            names.add("EXEC");
        }
        if ((flags & ViommuWire.FAULT_F_ADDRESS) != 0) {
            names.add("ADDRESS");
        }
        return names.isEmpty() ? "none" : String.join("|", names);
    }

    private List<RunResult.DeviceEntry> devices(Part p) {
        List<RunResult.DeviceEntry> out = new ArrayList<>();
        for (PcieEndpoint ep : p.machine().endpoints().values()) {
            PriState pri = ep.priState();
            Device dev = p.machine().device(ep.config().name());
            int parked = dev == null ? 0 : p.machine().iopf().partials(dev).size();
            out.add(new RunResult.DeviceEntry(ep.config().name(), pri.enabled(), pri.responseFailure(),
                    pri.unexpectedPrgIndex(), pri.creditsInUse(), parked, p.guest()));
        }
        return out;
    }

    private Map<String, Long> counters() {
        Map<String, Long> counters = new LinkedHashMap<>();
        long lpig = obs.lpigReported;
        counters.put("pageRequests", obs.faultsReported);
        counters.put("iopfGroups", lpig);
        counters.put("pageResponses", (long) obs.delivered.size());
        counters.put("mmFaults", scenario.processes().stream()
                .mapToLong(p -> machine.process(p.name()).handledFaults()).sum());
        counters.put("events", machine.loop().dispatchedEvents());
        return counters;
    }
}
