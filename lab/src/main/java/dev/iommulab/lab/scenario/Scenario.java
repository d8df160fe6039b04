package dev.iommulab.lab.scenario;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * A validated scenario: what to build, what to do, what to expect. Produced by {@link ScenarioLoader}
 * from a file, or built directly in Java (tests).
 *
 * <p>The constructor guarantees: device and process names are unique, device BDFs are unique, and every
 * device or process a step or expectation names is declared. Maps keep file order, so iterating a
 * scenario is deterministic.
 *
 * @param name         scenario name
 * @param description  free text ({@code ""} when absent)
 * @param seed         seed of the simulation's random source (file default 1)
 * @param kernel       which kernel's fault path to follow, one of {@link #KERNELS} (file default {@code latest})
 * @param hardware     the IOMMU model and its options
 * @param policies     policy overrides by dotted policy key, e.g. {@code iopf.abort-response} (unmodifiable)
 * @param devices      endpoints (unmodifiable)
 * @param processes    processes (unmodifiable)
 * @param guests       virtual machines, each with its own kernel and devices (unmodifiable)
 * @param steps        what happens, in order (unmodifiable)
 * @param expectations what must hold after the run (unmodifiable)
 * @param source       the file the scenario came from
 */
public record Scenario(String name, String description, long seed, String kernel, HardwareSpec hardware,
                       Map<String, String> policies, List<DeviceSpec> devices, List<ProcessSpec> processes,
                       List<GuestSpec> guests, List<Step> steps, List<Expectation> expectations, Path source) {

    /** Default seed when the file has none. */
    public static final long DEFAULT_SEED = 1;

    /** Kernel versions of the {@code kernel} key; the first is the default. */
    public static final List<String> KERNELS = List.of("latest", "v6.9", "v6.8", "pre-6.8");
    /** Default kernel when the file has none. */
    public static final String DEFAULT_KERNEL = "latest";

    /** Validates names, uniqueness and references; copies all collections. */
    public Scenario {
        Checks.name(name, "scenario name");
        Checks.oneOf(kernel, KERNELS, "kernel");
        Objects.requireNonNull(description, "description");
        Objects.requireNonNull(hardware, "hardware");
        Objects.requireNonNull(source, "source");
        policies = copyPolicies(policies);
        devices = List.copyOf(devices);
        processes = List.copyOf(processes);
        guests = List.copyOf(guests);
        steps = List.copyOf(steps);
        expectations = List.copyOf(expectations);
        Set<String> deviceNames = unique(devices.stream().map(DeviceSpec::name).toList(), "device name");
        unique(devices.stream().map(d -> Integer.toString(d.rid())).toList(), "device rid");
        Set<String> processNames = unique(processes.stream().map(ProcessSpec::name).toList(), "process name");
        checkReferences(steps, deviceNames, processNames);
        checkReferences(expectations, deviceNames, processNames);
        checkGuests(guests, steps, expectations, deviceNames);
    }

    /** A scenario without guests. */
    public Scenario(String name, String description, long seed, String kernel, HardwareSpec hardware,
                    Map<String, String> policies, List<DeviceSpec> devices, List<ProcessSpec> processes,
                    List<Step> steps, List<Expectation> expectations, Path source) {
        this(name, description, seed, kernel, hardware, policies, devices, processes, List.of(), steps,
                expectations, source);
    }

    /** A scenario following the latest kernel. */
    public Scenario(String name, String description, long seed, HardwareSpec hardware, Map<String, String> policies,
                    List<DeviceSpec> devices, List<ProcessSpec> processes, List<Step> steps,
                    List<Expectation> expectations, Path source) {
        this(name, description, seed, DEFAULT_KERNEL, hardware, policies, devices, processes, steps, expectations,
                source);
    }

    /** The device with this name, if declared. */
    public Optional<DeviceSpec> device(String deviceName) {
        return devices.stream().filter(d -> d.name().equals(deviceName)).findFirst();
    }

    /** The guest with this name, if declared. */
    public Optional<GuestSpec> guest(String guestName) {
        return guests.stream().filter(g -> g.name().equals(guestName)).findFirst();
    }

    /** The process with this name, if declared. */
    public Optional<ProcessSpec> process(String processName) {
        return processes.stream().filter(p -> p.name().equals(processName)).findFirst();
    }

    private static Map<String, String> copyPolicies(Map<String, String> policies) {
        Map<String, String> copy = new LinkedHashMap<>();
        policies.forEach((k, v) -> copy.put(Objects.requireNonNull(k, "policy key"),
                Objects.requireNonNull(v, "policy " + k)));
        return Collections.unmodifiableMap(copy);
    }

    private static Set<String> unique(List<String> names, String what) {
        Set<String> seen = new HashSet<>();
        for (String n : names) {
            if (!seen.add(n)) {
                throw new IllegalArgumentException("duplicate " + what + " " + n);
            }
        }
        return seen;
    }

    /**
     * Guest names are unique; a guest step or expectation names a declared guest and that guest's devices; an
     * assigned device names a host device, once.
     */
    private static void checkGuests(List<GuestSpec> guests, List<Step> steps, List<Expectation> expectations,
                                    Set<String> hostDevices) {
        unique(guests.stream().map(GuestSpec::name).toList(), "guest name");
        Map<String, Set<String>> guestDevices = new LinkedHashMap<>();
        List<String> assigned = new ArrayList<>();
        for (GuestSpec g : guests) {
            guestDevices.put(g.name(), unique(g.devices().stream().map(d -> d.spec().name()).toList(),
                    "device name in guest " + g.name()));
            unique(g.devices().stream().map(d -> Integer.toString(d.spec().rid())).toList(),
                    "device rid in guest " + g.name());
            for (GuestSpec.Device d : g.devices()) {
                if (!d.emulated()) {
                    if (!hostDevices.contains(d.hostDevice())) {
                        throw new IllegalArgumentException("undefined host device " + d.hostDevice() + " assigned to "
                                + g.name());
                    }
                    assigned.add(d.hostDevice());
                }
            }
        }
        unique(assigned, "assigned host device");
        for (Object item : concat(steps, expectations)) {
            String guest = item instanceof GuestStep s ? s.guest() : item instanceof GuestExpect e ? e.guest() : null;
            if (guest == null) {
                continue;
            }
            Set<String> devices = guestDevices.get(guest);
            if (devices == null) {
                throw new IllegalArgumentException("undefined guest " + guest + " in " + item);
            }
            Object inner = item instanceof GuestStep s ? s.step() : ((GuestExpect) item).expectation();
            checkReferences(List.of(inner), devices, Set.of());
        }
    }

    private static List<Object> concat(List<Step> steps, List<Expectation> expectations) {
        List<Object> all = new ArrayList<>(steps);
        all.addAll(expectations);
        return all;
    }

    private static void checkReferences(List<?> items, Set<String> devices, Set<String> processes) {
        for (Object item : items) {
            if (item instanceof DeviceRef d && !devices.contains(d.device())) {
                throw new IllegalArgumentException("undefined device " + d.device() + " in " + item);
            }
            if (item instanceof DeviceExpect e && !devices.contains(e.name())) {
                throw new IllegalArgumentException("undefined device " + e.name() + " in " + item);
            }
            if (item instanceof ProcessRef p && p.process() != null && !processes.contains(p.process())) {
                throw new IllegalArgumentException("undefined process " + p.process() + " in " + item);
            }
        }
    }
}
