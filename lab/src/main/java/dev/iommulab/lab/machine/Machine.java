package dev.iommulab.lab.machine;

import com.google.inject.Guice;
import com.google.inject.Injector;
import com.google.inject.Key;
import com.google.inject.Module;
import com.google.inject.TypeLiteral;
import com.google.inject.util.Modules;
import dev.iommulab.core.CoreModule;
import dev.iommulab.core.Device;
import dev.iommulab.core.IommuCore;
import dev.iommulab.core.IommuOps;
import dev.iommulab.core.KernelVersion;
import dev.iommulab.core.dma.DmaPolicyModule;
import dev.iommulab.core.fault.FaultEvents;
import dev.iommulab.core.kernel.FailureInjector;
import dev.iommulab.core.kernel.FrameAllocator;
import dev.iommulab.core.kernel.KernelLog;
import dev.iommulab.core.mm.CpuPageTable;
import dev.iommulab.core.mm.MmStruct;
import dev.iommulab.core.mm.Vma;
import dev.iommulab.core.policy.Policies;
import dev.iommulab.core.policy.Policy;
import dev.iommulab.core.policy.PolicyException;
import dev.iommulab.drivers.DriverPolicyModule;
import dev.iommulab.drivers.DriversModule;
import dev.iommulab.drivers.Platform;
import dev.iommulab.drivers.PlatformOptionException;
import dev.iommulab.hw.HwModelModule;
import dev.iommulab.hw.iommu.IommuHardware;
import dev.iommulab.hw.iommu.PcieFabric;
import dev.iommulab.hw.pci.DeviceProfile;
import dev.iommulab.hw.pci.EndpointConfig;
import dev.iommulab.hw.pci.PcieEndpoint;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.TimingModel;
import dev.iommulab.iopf.Iopf;
import dev.iommulab.iopf.IopfModule;
import dev.iommulab.iopf.IopfPolicyModule;
import dev.iommulab.lab.scenario.DeviceSpec;
import dev.iommulab.lab.scenario.ProcessSpec;
import dev.iommulab.lab.scenario.Scenario;
import dev.iommulab.lab.scenario.VmaSpec;
import dev.iommulab.sva.IommuSva;
import dev.iommulab.sva.SvaModule;
import dev.iommulab.vfio.Iommufd;
import dev.iommulab.vfio.UserspaceDriver;
import dev.iommulab.vfio.VfioModule;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/**
 * One simulated machine assembled from the layers' Guice modules: hardware, core, io-pgfault, driver,
 * SVA and the user-space view, with the scenario's devices probed and processes created.
 */
public final class Machine {

    /** PRI retries of a device after Success before a work item gives up. */
    static final int MAX_PRI_RETRIES = 16;

    private final Injector injector;
    private final EventLoop loop;
    private final FaultRecorder faults;
    private final Map<String, PcieEndpoint> endpoints = new LinkedHashMap<>();
    private final Map<String, Device> devices = new LinkedHashMap<>();
    private final Map<String, MmStruct> processes = new LinkedHashMap<>();
    /** Each process's own {@code user-response}, when it has one. */
    private final Map<String, String> userResponses = new LinkedHashMap<>();
    private final Map<String, VfioProcess> userspace = new LinkedHashMap<>();

    private Machine(Injector injector) {
        this.injector = injector;
        this.loop = injector.getInstance(EventLoop.class);
        this.faults = injector.getInstance(FaultRecorder.class);
    }

    /** The layers' modules, in order from hardware to user space. */
    public static List<Module> layerModules() {
        return List.of(new HwModelModule(), new CoreModule(), new IopfModule(), new DriversModule(), new SvaModule(),
                new VfioModule());
    }

    /**
     * Builds the machine the scenario describes. {@code overrides} replace bindings of the layer modules
     * (e.g. a mock of one layer).
     *
     * @throws MachineConfigException for a hardware model or option this lab does not have
     */
    public static Machine boot(Scenario scenario, Module... overrides) throws MachineConfigException {
        return boot(scenario, List.of(), overrides);
    }

    /**
     * Builds the machine the scenario describes with extra platforms registered by
     * {@code platformModules} (each adding to the {@code MapBinder<String, Platform>} of
     * {@link DriversModule}).
     */
    public static Machine boot(Scenario scenario, List<Module> platformModules, Module... overrides)
            throws MachineConfigException {
        Module platform = platformModule(scenario, platformModules);
        Module choices = choicesModule(scenario);
        Module base = Modules.override(Modules.combine(Modules.combine(layerModules()), platform,
                new LabModule(scenario.seed(), new FaultRecorder()))).with(choices);
        Machine machine = new Machine(Guice.createInjector(Modules.override(base).with(overrides)));
        machine.populate(scenario);
        return machine;
    }

    /**
     * Fails when the scenario's hardware model or one of its options is not available, or when its
     * {@code kernel} or one of its {@code policies} (key, value or parameter) is unknown.
     */
    public static void checkHardware(Scenario scenario) throws MachineConfigException {
        platformModule(scenario, List.of());
        choicesModule(scenario);
    }

    /** The modules registering the layers' policies in the {@code MapBinder<String, Policy>} of {@link Policies}. */
    public static List<Module> policyModules() {
        return List.of(new IopfPolicyModule(), new DriverPolicyModule(), new DmaPolicyModule(),
                new UserspacePolicyModule());
    }

    /** Every policy the layers register, by dotted key. */
    public static Map<String, Policy> policies() {
        Injector registry = Guice.createInjector(Modules.combine(policyModules()));
        return registry.getInstance(Key.get(new TypeLiteral<Map<String, Policy>>() { }));
    }

    /** The kernel version and the chosen policies, bound over the layers' kernel defaults. */
    private static Module choicesModule(Scenario scenario) throws MachineConfigException {
        KernelVersion kernel = KernelVersion.fromLabel(scenario.kernel()).orElseThrow(() -> new MachineConfigException(
                "kernel", "unknown kernel '" + scenario.kernel() + "'; expected one of "
                + String.join(", ", KernelVersion.labels())));
        Module policies;
        try {
            policies = Policies.select(policies(), scenario.policies());
        } catch (PolicyException e) {
            throw new MachineConfigException("policies." + e.key(), e.getMessage().substring(e.key().length() + 2));
        }
        return Modules.combine(policies, binder -> binder.bind(KernelVersion.class).toInstance(kernel));
    }

    /** The platforms known to the lab, plus those {@code platformModules} register. */
    public static Map<String, Platform> platforms(List<Module> platformModules) {
        Injector registry = Guice.createInjector(Modules.combine(new DriversModule(),
                Modules.combine(platformModules)));
        return registry.getInstance(Key.get(new TypeLiteral<Map<String, Platform>>() { }));
    }

    private static Module platformModule(Scenario scenario, List<Module> platformModules)
            throws MachineConfigException {
        Map<String, Platform> platforms = platforms(platformModules);
        String model = scenario.hardware().model();
        Platform platform = platforms.get(model);
        if (platform == null) {
            throw new MachineConfigException("hardware.model", "model '" + model + "' is not available yet; available: "
                    + String.join(", ", new TreeSet<>(platforms.keySet())));
        }
        try {
            return platform.module(scenario.hardware().options());
        } catch (PlatformOptionException e) {
            throw new MachineConfigException("hardware.options." + e.key(), e.getMessage()
                    .substring(("hardware.options." + e.key() + ": ").length()));
        }
    }

    private void populate(Scenario scenario) {
        IommuOps ops = get(IommuOps.class);
        IommuHardware iommu = get(IommuHardware.class);
        PcieFabric fabric = get(PcieFabric.class);
        IommuCore core = get(IommuCore.class);
        for (DeviceSpec spec : scenario.devices()) {
            EndpointConfig config = new EndpointConfig(spec.name(), spec.rid(),
                    DeviceProfile.valueOf(spec.profile().toUpperCase(Locale.ROOT)), spec.ats(), spec.pri(),
                    spec.pasidBits(), spec.priCredits(), spec.atcEntries(), MAX_PRI_RETRIES);
            config = config.withOptions(config.options().withVirtualFunction(spec.virtualFunction()));
            PcieEndpoint ep = new PcieEndpoint(config, loop, get(TimingModel.class));
            ep.connect(iommu);
            fabric.attach(ep);
            endpoints.put(spec.name(), ep);
            devices.put(spec.name(), core.probeDevice(ep, ops));
        }
        FrameAllocator frames = get(FrameAllocator.class);
        long zeroPage = frames.allocate();
        for (ProcessSpec spec : scenario.processes()) {
            MmStruct mm = new MmStruct(spec.name(), frames, zeroPage, get(CpuPageTable.class));
            for (VmaSpec vma : spec.vmas()) {
                mm.mmap(vma.start(), vma.size(), Vma.flagsOf(vma.prot()));
            }
            processes.put(spec.name(), mm);
            if (spec.userResponse() != null) {
                userResponses.put(spec.name(), spec.userResponse());
            }
        }
    }

    /** Any component of the machine, e.g. {@code machine.get(Iopf.class)}. */
    public <T> T get(Class<T> type) {
        return injector.getInstance(type);
    }

    public EventLoop loop() {
        return loop;
    }

    public PcieEndpoint endpoint(String name) {
        return endpoints.get(name);
    }

    public Map<String, PcieEndpoint> endpoints() {
        return endpoints;
    }

    public Device device(String name) {
        return devices.get(name);
    }

    public MmStruct process(String name) {
        return processes.get(name);
    }

    /** The scenario's processes by name, in declaration order. */
    public Map<String, MmStruct> processes() {
        return Collections.unmodifiableMap(processes);
    }

    /**
     * The user-space view of process {@code name}: its iommufd context and client, created on first use with the
     * scenario's {@code vfio.*} policies (the process's own {@code user-response} first).
     *
     * @throws IllegalArgumentException for a process the scenario does not declare
     */
    public VfioProcess userspace(String name) {
        MmStruct mm = processes.get(name);
        if (mm == null) {
            throw new IllegalArgumentException("no process " + name);
        }
        return userspace.computeIfAbsent(name, n -> {
            UserspaceResponse response = get(UserspaceResponse.class);
            if (userResponses.containsKey(n)) {
                response = response.withMode(userResponses.get(n));
            }
            Iommufd iommufd = new Iommufd(get(IommuCore.class), iopf(), get(Iommufd.ReplaceAutoResponse.class));
            UserspaceDriver driver = new UserspaceDriver(iommufd, mm, loop, get(TimingModel.class),
                    response.clientPolicy(), response.readBytes());
            return new VfioProcess(n, mm, loop, response, driver);
        });
    }

    /** The processes that used iommufd so far, in order of first use. */
    public Map<String, VfioProcess> userspaceProcesses() {
        return Collections.unmodifiableMap(userspace);
    }

    /** The process whose iommufd has device {@code name} bound, or null. */
    public VfioProcess vfioOwner(String deviceName) {
        Device dev = devices.get(deviceName);
        return userspace.values().stream().filter(p -> p.binds(dev)).findFirst().orElse(null);
    }

    public FaultRecorder faultRecorder() {
        return faults;
    }

    public KernelLog log() {
        return get(KernelLog.class);
    }

    public IommuSva sva() {
        return get(IommuSva.class);
    }

    public Iopf iopf() {
        return get(Iopf.class);
    }

    public FaultEvents faultEvents() {
        return get(FaultEvents.class);
    }

    public FailureInjector failures() {
        return get(FailureInjector.class);
    }
}
