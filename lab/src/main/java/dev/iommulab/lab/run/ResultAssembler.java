package dev.iommulab.lab.run;

import dev.iommulab.core.Device;
import dev.iommulab.core.kernel.KernelLog;
import dev.iommulab.hw.iommu.HwFault;
import dev.iommulab.hw.iommu.PrgResponseCode;
import dev.iommulab.hw.pci.DmaOutcome;
import dev.iommulab.hw.pci.DmaStatus;
import dev.iommulab.hw.pci.PcieEndpoint;
import dev.iommulab.hw.pci.PriState;
import dev.iommulab.lab.machine.Machine;
import dev.iommulab.lab.scenario.Scenario;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.IntStream;

/** Turns what a run observed into a {@link RunResult}. */
final class ResultAssembler {

    /** The JSON spellings of the 4-bit PRG response codes, made once. */
    private static final String[] WIRE_CODES = IntStream.range(0, 16)
            .mapToObj(c -> String.format("%#x", c)).toArray(String[]::new);

    private final Scenario scenario;
    private final Machine machine;
    private final Observations obs;
    private final JourneyRecorder journey;
    private final List<RunResult.StepErrorEntry> errors;

    ResultAssembler(Scenario scenario, Machine machine, Observations obs, JourneyRecorder journey,
                    List<RunResult.StepErrorEntry> errors) {
        this.scenario = scenario;
        this.machine = machine;
        this.obs = obs;
        this.journey = journey;
        this.errors = errors;
    }

    RunResult assemble() {
        List<RunResult.PageResponseEntry> responses = pageResponses();
        List<RunResult.DmaEntry> dma = dma();
        List<RunResult.FaultRecordEntry> faults = faultRecords();
        List<RunResult.DeviceEntry> devices = devices();
        List<String> log = machine.log().lines().stream().map(KernelLog.Line::formatted).toList();
        List<RunResult.InvariantEntry> invariants = new Invariants(machine, obs).check();
        List<RunResult.UserspaceEntry> userspace = new UserspaceReport(machine).entries();
        RunResult partial = new RunResult(scenario.name(), scenario.seed(), scenario.hardware().model(),
                scenario.kernel(), scenario.policies(), "pending",
                machine.loop().now(), responses, dma, faults, devices, userspace, log, List.copyOf(errors), invariants,
                List.of(), counters(), journey.shown(), serviceLatencies(), obs.parkedAfterSteps(),
                obs.faultQueuesAfterSteps(), journey.stepsByLayer());
        List<RunResult.ExpectationEntry> expectations = new ExpectationChecker(partial, scenario.steps().size())
                .check(scenario.expectations());
        boolean pass = errors.stream().allMatch(RunResult.StepErrorEntry::expected)
                && invariants.stream().allMatch(RunResult.InvariantEntry::holds)
                && expectations.stream().allMatch(RunResult.ExpectationEntry::holds);
        return new RunResult(partial.scenario(), partial.seed(), partial.hardware(), partial.kernel(),
                partial.policies(), pass ? "pass" : "fail",
                partial.simulatedNs(), responses, dma, faults, devices, userspace, log, partial.stepErrors(),
                invariants, expectations, partial.counters(), partial.journey(), partial.serviceLatenciesNs(),
                partial.parkedAfterSteps(), partial.faultQueueAfterSteps(), partial.journeyStepsByLayer());
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
    private List<RunResult.PageResponseEntry> pageResponses() {
        List<Observations.Delivered> delivered = obs.visit(obs.delivered);
        return new AbstractList<>() {
            @Override
            public RunResult.PageResponseEntry get(int index) {
                Observations.Delivered d = delivered.get(index);
                return new RunResult.PageResponseEntry(d.atNs(), d.device(),
                        d.response().pasidPresent() ? d.response().pasid() : null, d.response().prgi(),
                        pcieCode(d.response().code()), wireCode(d.response().wireCode()), d.origin().label(),
                        d.latencyNs());
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

    private List<RunResult.DmaEntry> dma() {
        List<RunResult.DmaEntry> out = new ArrayList<>();
        for (Observations.DmaItem item : obs.visit(obs.dma)) {
            DmaOutcome o = item.outcome;
            DmaStatus status = o == null ? DmaStatus.PENDING : o.status();
            out.add(new RunResult.DmaEntry(item.device, item.pasid, String.format("%#x", item.job.addr()),
                    item.job.size(), item.job.access().name().toLowerCase(Locale.ROOT), status.label(),
                    o == null ? null : o.latencyNs(),
                    o == null || o.faultAddr() < 0 ? null : String.format("%#x", o.faultAddr()), item.memoryMatches));
        }
        return out;
    }

    private List<RunResult.FaultRecordEntry> faultRecords() {
        List<RunResult.FaultRecordEntry> out = new ArrayList<>();
        for (HwFault f : machine.faultRecorder().faults()) {
            String device = machine.endpoints().values().stream().filter(e -> e.rid() == f.rid())
                    .map(e -> e.config().name()).findFirst().orElse(String.format("%04x", f.rid()));
            out.add(new RunResult.FaultRecordEntry(f.atNs(), device, f.pasid() < 0 ? null : f.pasid(),
                    String.format("%#x", f.addr()), f.access().name().toLowerCase(Locale.ROOT), f.reason().name(),
                    String.format("%#x", f.vendorCode()), f.recorded(), f.coalesced()));
        }
        return out;
    }

    private List<RunResult.DeviceEntry> devices() {
        List<RunResult.DeviceEntry> out = new ArrayList<>();
        for (PcieEndpoint ep : machine.endpoints().values()) {
            PriState pri = ep.priState();
            Device dev = machine.device(ep.config().name());
            int parked = dev == null ? 0 : machine.iopf().partials(dev).size();
            out.add(new RunResult.DeviceEntry(ep.config().name(), pri.enabled(), pri.responseFailure(),
                    pri.unexpectedPrgIndex(), pri.creditsInUse(), parked));
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
