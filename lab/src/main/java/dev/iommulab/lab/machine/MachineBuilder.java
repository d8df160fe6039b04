package dev.iommulab.lab.machine;

import com.google.inject.Guice;
import com.google.inject.Module;
import com.google.inject.util.Modules;
import dev.iommulab.core.KernelVersion;
import dev.iommulab.core.policy.Policies;
import dev.iommulab.core.policy.PolicyException;
import dev.iommulab.drivers.Platform;
import dev.iommulab.drivers.PlatformOptionException;
import dev.iommulab.lab.scenario.DeviceSpec;
import dev.iommulab.lab.scenario.ProcessSpec;
import dev.iommulab.lab.scenario.Scenario;
import dev.iommulab.lab.scenario.VmaSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * Assembles a whole machine in a test, without a scenario file — the lab's counterpart of Netty's
 * {@code EmbeddedChannel}. Everything a scenario's spec says has a call here, by the same names: {@link #hardware}
 * and {@link #hardwareOption} ({@code hardware:}), {@link #device} ({@code devices:}), {@link #process}
 * ({@code processes:}), {@link #policy} ({@code policies:}), {@link #kernel} and {@link #seed}; a scenario is booted
 * through {@link Machine#builder(Scenario)}, so both are the same machine. {@link #override} replaces bindings of
 * the layers' Guice modules.
 *
 * <pre>{@code
 * Machine m = Machine.builder()
 *         .hardware("vtd")
 *         .device("acc0", "00:03.0", d -> d.profile("accelerator").ats().pri().pasidBits(20))
 *         .process("app", p -> p.vma(0x7f0000000000L, 64 * 1024, "rw"))
 *         .policy("iopf.abort-response", "INVALID")
 *         .build();
 * }</pre>
 *
 * <p>Defaults are the scenario file's: hardware {@code vtd} without options, kernel {@code latest}, seed 1, the
 * kernel's choice for every policy. Names and BDFs are checked when added; hardware, kernel and policies when the
 * machine is built.
 */
public final class MachineBuilder {

    private String model = "vtd";
    private final Map<String, Object> options = new LinkedHashMap<>();
    private final List<Module> platformModules = new ArrayList<>();
    private String kernel = Scenario.DEFAULT_KERNEL;
    private final Map<String, String> policies = new LinkedHashMap<>();
    private long seed = Scenario.DEFAULT_SEED;
    private final Map<String, DeviceSpec> devices = new LinkedHashMap<>();
    /** Devices the kernel is not told sit behind the IOMMU: connected to it, never probed. */
    private final Set<String> unprobed = new HashSet<>();
    private final Map<String, ProcessSpec> processes = new LinkedHashMap<>();
    private final List<Module> overrides = new ArrayList<>();

    MachineBuilder() {
    }

    /** The IOMMU model ({@code hardware.model}): {@code vtd}, {@code riscv}, or one a platform module registers. */
    public MachineBuilder hardware(String hardwareModel) {
        this.model = Objects.requireNonNull(hardwareModel, "model");
        return this;
    }

    /** One of the model's {@code hardware.options}, e.g. {@code hardwareOption("prq-entries", 64)}. */
    public MachineBuilder hardwareOption(String key, Object value) {
        options.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, key));
        return this;
    }

    /** A module adding platforms to the {@code MapBinder<String, Platform>} of {@code DriversModule}. */
    public MachineBuilder platformModule(Module module) {
        platformModules.add(Objects.requireNonNull(module, "module"));
        return this;
    }

    /** Which kernel's fault path to follow, by its scenario label ({@code latest}, {@code v6.8}, ...). */
    public MachineBuilder kernel(String label) {
        this.kernel = Objects.requireNonNull(label, "kernel");
        return this;
    }

    public MachineBuilder kernel(KernelVersion version) {
        return kernel(version.label());
    }

    /** A policy choice or parameter by its {@code policies:} key, e.g. {@code policy("dma.flush", "strict")}. */
    public MachineBuilder policy(String key, String value) {
        policies.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, key));
        return this;
    }

    /** The seed of the simulation's random source. */
    public MachineBuilder seed(long value) {
        this.seed = value;
        return this;
    }

    /** A generic endpoint without ATS, PRI or PASID. */
    public MachineBuilder device(String name, String bdf) {
        return device(name, bdf, d -> { });
    }

    /** An endpoint whose capabilities {@code options} sets, e.g. {@code d -> d.ats().pri().pasidBits(20)}. */
    public MachineBuilder device(String name, String bdf, Consumer<DeviceOptions> configure) {
        DeviceOptions d = new DeviceOptions();
        configure.accept(d);
        return device(new DeviceSpec(name, bdf, d.profile, d.ats, d.pri, d.pasidBits, d.priCredits, d.atcEntries,
                d.virtualFunction));
    }

    /** An endpoint as the scenario's {@code devices:} section describes it. */
    public MachineBuilder device(DeviceSpec spec) {
        if (devices.containsKey(spec.name())) {
            throw new IllegalArgumentException("duplicate device name " + spec.name());
        }
        if (devices.values().stream().anyMatch(d -> d.rid() == spec.rid())) {
            throw new IllegalArgumentException("duplicate device rid " + spec.rid() + " (" + spec.bdf() + ")");
        }
        devices.put(spec.name(), spec);
        return this;
    }

    /**
     * An endpoint behind the IOMMU that the kernel is not told about (a guest device missing from the firmware's
     * VIOT): its DMA goes through the IOMMU, but the kernel never probes or attaches it.
     */
    public MachineBuilder unprobedDevice(DeviceSpec spec) {
        device(spec);
        unprobed.add(spec.name());
        return this;
    }

    /** A process whose address space {@code configure} lays out, e.g. {@code p -> p.vma(start, size, "rw")}. */
    public MachineBuilder process(String name, Consumer<ProcessOptions> configure) {
        ProcessOptions p = new ProcessOptions();
        configure.accept(p);
        return process(new ProcessSpec(name, p.vmas, p.userResponse));
    }

    /** A process as the scenario's {@code processes:} section describes it. */
    public MachineBuilder process(ProcessSpec spec) {
        if (processes.putIfAbsent(spec.name(), spec) != null) {
            throw new IllegalArgumentException("duplicate process name " + spec.name());
        }
        return this;
    }

    /** Modules whose bindings replace those of the layers (e.g. another io-pgfault); applied last. */
    public MachineBuilder override(Module... modules) {
        overrides.addAll(Arrays.asList(modules));
        return this;
    }

    /**
     * Checks that the hardware model and its options, the kernel and the policies exist, booting nothing.
     *
     * @throws MachineConfigException naming the scenario key at fault
     */
    public void check() throws MachineConfigException {
        platformModule();
        choicesModule();
    }

    /**
     * The machine's Guice module: the layers, the platform, the lab's own bindings, the kernel and policy choices
     * over their defaults, then the overrides. For tests that look at a binding; {@link #build} boots it.
     */
    public Module module() throws MachineConfigException {
        Module platform = platformModule();
        Module choices = choicesModule();
        Module base = Modules.override(Modules.combine(Modules.combine(Machine.layerModules()), platform,
                new LabModule(seed, new FaultRecorder()))).with(choices);
        return Modules.override(base).with(overrides);
    }

    /**
     * Boots the machine: builds the injector, then probes the devices and creates the processes in the order
     * they were added; last, the {@link Machine.Observer}s found on the class path see it.
     *
     * @throws MachineConfigException for a hardware model, option, kernel or policy this lab does not have
     */
    public Machine build() throws MachineConfigException {
        Machine machine = new Machine(Guice.createInjector(module()));
        machine.populate(List.copyOf(devices.values()), Set.copyOf(unprobed), List.copyOf(processes.values()));
        machine.announce();
        return machine;
    }

    /** The kernel version and the chosen policies, bound over the layers' kernel defaults. */
    private Module choicesModule() throws MachineConfigException {
        KernelVersion version = KernelVersion.fromLabel(kernel).orElseThrow(() -> new MachineConfigException(
                "kernel", "unknown kernel '" + kernel + "'; expected one of "
                + String.join(", ", KernelVersion.labels())));
        Module chosen;
        try {
            chosen = Policies.select(Machine.policies(), policies);
        } catch (PolicyException e) {
            throw new MachineConfigException("policies." + e.key(), e.getMessage().substring(e.key().length() + 2));
        }
        return Modules.combine(chosen, binder -> binder.bind(KernelVersion.class).toInstance(version));
    }

    private Module platformModule() throws MachineConfigException {
        Map<String, Platform> platforms = Machine.platforms(platformModules);
        Platform platform = platforms.get(model);
        if (platform == null) {
            throw new MachineConfigException("hardware.model", "model '" + model + "' is not available yet; available: "
                    + String.join(", ", new TreeSet<>(platforms.keySet())));
        }
        try {
            return platform.module(options);
        } catch (PlatformOptionException e) {
            throw new MachineConfigException("hardware.options." + e.key(), e.getMessage()
                    .substring(("hardware.options." + e.key() + ": ").length()));
        }
    }

    /** One endpoint's capabilities; the defaults are those of the scenario file. */
    public static final class DeviceOptions {

        private String profile = "generic";
        private boolean ats;
        private boolean pri;
        private int pasidBits;
        private int priCredits = DeviceSpec.DEFAULT_PRI_CREDITS;
        private int atcEntries = DeviceSpec.DEFAULT_ATC_ENTRIES;
        private boolean virtualFunction;

        DeviceOptions() {
        }

        /** One of {@link DeviceSpec#PROFILES}. */
        public DeviceOptions profile(String name) {
            this.profile = name;
            return this;
        }

        /** Address Translation Services, with an ATC. */
        public DeviceOptions ats() {
            this.ats = true;
            return this;
        }

        /** Page Request Interface (needs {@link #ats}). */
        public DeviceOptions pri() {
            this.pri = true;
            return this;
        }

        public DeviceOptions pasidBits(int bits) {
            this.pasidBits = bits;
            return this;
        }

        public DeviceOptions priCredits(int credits) {
            this.priCredits = credits;
            return this;
        }

        public DeviceOptions atcEntries(int entries) {
            this.atcEntries = entries;
            return this;
        }

        /** An SR-IOV Virtual Function. */
        public DeviceOptions virtualFunction() {
            this.virtualFunction = true;
            return this;
        }
    }

    /** One process's initial address space and user-space client. */
    public static final class ProcessOptions {

        private final List<VmaSpec> vmas = new ArrayList<>();
        private String userResponse;

        ProcessOptions() {
        }

        /** An anonymous mapping; {@code prot} is {@code none} or letters from r, w, x. */
        public ProcessOptions vma(long start, long size, String prot) {
            vmas.add(new VmaSpec(start, size, prot));
            return this;
        }

        /** How its iommufd client serves faults, one of {@link ProcessSpec#USER_RESPONSES}. */
        public ProcessOptions userResponse(String mode) {
            this.userResponse = mode;
            return this;
        }
    }
}
