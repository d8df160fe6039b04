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
import dev.iommulab.core.dma.DmaPolicyModule;
import dev.iommulab.core.dma.IommuDma;
import dev.iommulab.core.fault.FaultEvents;
import dev.iommulab.core.fault.LegacyFaultReporting;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.FailureInjector;
import dev.iommulab.core.kernel.FrameAllocator;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.core.kernel.KernelLog;
import dev.iommulab.core.mm.CpuPageTable;
import dev.iommulab.core.mm.MmStruct;
import dev.iommulab.core.mm.Vma;
import dev.iommulab.core.policy.Policies;
import dev.iommulab.core.policy.Policy;
import dev.iommulab.drivers.DriverPolicyModule;
import dev.iommulab.drivers.DriversModule;
import dev.iommulab.drivers.Platform;
import dev.iommulab.hw.HwModelModule;
import dev.iommulab.hw.iommu.IommuHardware;
import dev.iommulab.hw.iommu.PcieFabric;
import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.pci.DeviceProfile;
import dev.iommulab.hw.pci.DmaJob;
import dev.iommulab.hw.pci.DmaOutcome;
import dev.iommulab.hw.pci.EndpointConfig;
import dev.iommulab.hw.pci.PcieEndpoint;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.TimingModel;
import dev.iommulab.iopf.IoPgfault;
import dev.iommulab.iopf.Iopf;
import dev.iommulab.iopf.IopfModule;
import dev.iommulab.iopf.IopfPolicyModule;
import dev.iommulab.lab.scenario.DeviceSpec;
import dev.iommulab.lab.scenario.ProcessSpec;
import dev.iommulab.lab.scenario.Scenario;
import dev.iommulab.lab.scenario.VmaSpec;
import dev.iommulab.sva.IommuSva;
import dev.iommulab.sva.SvaHandle;
import dev.iommulab.sva.SvaModule;
import dev.iommulab.vfio.Iommufd;
import dev.iommulab.vfio.UserspaceDriver;
import dev.iommulab.vfio.VfioModule;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;

/**
 * One simulated machine assembled from the layers' Guice modules: hardware, core, io-pgfault, driver, SVA and the
 * user-space view, with its devices probed and processes created. {@link #builder()} assembles one in a test;
 * {@link #boot} builds the one a scenario describes, through the same builder. The layers are reached through
 * typed accessors ({@link #core()}, {@link #iopf()}, {@link #sva()}, ...). Longer than 300 lines on purpose:
 * it is the one typed view of every layer a test or a step handler reads the stack through.
 */
public final class Machine {

    /**
     * Sees every machine the lab builds — by {@link MachineBuilder#build()}, {@link #boot} or a scenario runner — for
     * test kits that check each one (the lab's invariants after every test). Implementations are found by
     * {@link ServiceLoader} ({@code META-INF/services/dev.iommulab.lab.machine.Machine$Observer}), looked up once per
     * JVM; production registers none. An observer only watches: it may add listeners, never change the machine or
     * run anything on it.
     */
    public interface Observer {

        /** {@code machine} was just built: devices probed, processes created, nothing run yet. */
        void built(Machine machine);
    }

    /** The observers found on the class path, looked up on the first build. */
    private static final class Observers {
        static final List<Observer> FOUND = ServiceLoader.load(Observer.class, Machine.class.getClassLoader())
                .stream().map(ServiceLoader.Provider::get).toList();
    }

    /** PRI retries of a device after Success before a work item gives up. */
    static final int MAX_PRI_RETRIES = 16;

    private final Injector injector;
    private final Map<Class<?>, Object> components = new HashMap<>();
    private final EventLoop loop;
    private final FaultRecorder faults;
    private final Map<String, PcieEndpoint> endpoints = new LinkedHashMap<>();
    private final Map<String, Device> devices = new LinkedHashMap<>();
    private final Map<String, MmStruct> processes = new LinkedHashMap<>();
    /** Each process's own {@code user-response}, when it has one. */
    private final Map<String, String> userResponses = new LinkedHashMap<>();
    private final Map<String, VfioProcess> userspace = new LinkedHashMap<>();

    Machine(Injector injector) {
        this.injector = injector;
        this.loop = injector.getInstance(EventLoop.class);
        this.faults = injector.getInstance(FaultRecorder.class);
    }

    /** A builder of a machine with no devices or processes yet, on {@code vtd} with the kernel's policies. */
    public static MachineBuilder builder() {
        return new MachineBuilder();
    }

    /** A builder holding what {@code scenario}'s spec describes (the one translation of a spec into a machine). */
    public static MachineBuilder builder(Scenario scenario) {
        MachineBuilder builder = builder().hardware(scenario.hardware().model()).kernel(scenario.kernel())
                .seed(scenario.seed());
        scenario.hardware().options().forEach(builder::hardwareOption);
        scenario.policies().forEach(builder::policy);
        scenario.devices().forEach(builder::device);
        scenario.processes().forEach(builder::process);
        return builder;
    }

    /** The layers' modules, in order from hardware to user space. */
    public static List<Module> layerModules() {
        return List.of(new HwModelModule(), new CoreModule(), new IopfModule(), new DriversModule(), new SvaModule(),
                new VfioModule());
    }

    /**
     * Builds the machine the scenario describes. {@code overrides} replace bindings of the layer modules
     * (e.g. another implementation of one layer).
     *
     * @throws MachineConfigException for a hardware model or option this lab does not have
     */
    public static Machine boot(Scenario scenario, Module... overrides) throws MachineConfigException {
        return builder(scenario).override(overrides).build();
    }

    /**
     * Fails when the scenario's hardware model or one of its options is not available, or when its
     * {@code kernel} or one of its {@code policies} (key, value or parameter) is unknown.
     */
    public static void checkHardware(Scenario scenario) throws MachineConfigException {
        builder(scenario).check();
    }

    /** The modules registering the layers' policies in the {@code MapBinder<String, Policy>} of {@link Policies}. */
    public static List<Module> policyModules() {
        return List.of(new IopfPolicyModule(), new DriverPolicyModule(), new DmaPolicyModule(),
                new UserspacePolicyModule());
    }

    /** Every policy the layers register, by dotted key (read once per JVM: the registry never changes). */
    public static Map<String, Policy> policies() {
        return Registries.POLICIES;
    }

    /** The platforms known to the lab, plus those {@code platformModules} register. */
    public static Map<String, Platform> platforms(List<Module> platformModules) {
        return platformModules.isEmpty() ? Registries.PLATFORMS : platformRegistry(platformModules);
    }

    private static Map<String, Platform> platformRegistry(List<Module> platformModules) {
        Injector registry = Guice.createInjector(Modules.combine(new DriversModule(),
                Modules.combine(platformModules)));
        return registry.getInstance(Key.get(new TypeLiteral<Map<String, Platform>>() { }));
    }

    /**
     * The registries every build and check reads, each made once per JVM by an injector of its own. Both hold
     * stateless values ({@code Policy} choices, {@code Platform}s) and never change, so sharing them only saves
     * the two injectors a check and a build would each make again (start-up cost of a small run).
     */
    private static final class Registries {
        static final Map<String, Policy> POLICIES = Guice.createInjector(Modules.combine(policyModules()))
                .getInstance(Key.get(new TypeLiteral<Map<String, Policy>>() { }));
        static final Map<String, Platform> PLATFORMS = platformRegistry(List.of());
    }

    /** Probes {@code deviceSpecs} and creates {@code processSpecs}, in order (the builder's last step). */
    void populate(List<DeviceSpec> deviceSpecs, Set<String> unprobed, List<ProcessSpec> processSpecs) {
        IommuOps ops = component(IommuOps.class);
        IommuHardware iommu = component(IommuHardware.class);
        PcieFabric fabric = component(PcieFabric.class);
        IommuCore core = component(IommuCore.class);
        for (DeviceSpec spec : deviceSpecs) {
            EndpointConfig config = new EndpointConfig(spec.name(), spec.rid(),
                    DeviceProfile.valueOf(spec.profile().toUpperCase(Locale.ROOT)), spec.ats(), spec.pri(),
                    spec.pasidBits(), spec.priCredits(), spec.atcEntries(), MAX_PRI_RETRIES);
            config = config.withOptions(config.options().withVirtualFunction(spec.virtualFunction()));
            PcieEndpoint ep = new PcieEndpoint(config, loop, component(TimingModel.class));
            ep.connect(iommu);
            fabric.attach(ep);
            endpoints.put(spec.name(), ep);
            if (!unprobed.contains(spec.name())) {
                devices.put(spec.name(), core.probeDevice(ep, ops));
            }
        }
        FrameAllocator frames = component(FrameAllocator.class);
        long zeroPage = frames.allocate();
        for (ProcessSpec spec : processSpecs) {
            MmStruct mm = new MmStruct(spec.name(), frames, zeroPage, component(CpuPageTable.class));
            for (VmaSpec vma : spec.vmas()) {
                mm.mmap(vma.start(), vma.size(), Vma.flagsOf(vma.prot()));
            }
            processes.put(spec.name(), mm);
            if (spec.userResponse() != null) {
                userResponses.put(spec.name(), spec.userResponse());
            }
        }
    }

    /** Tells the {@link Observer}s that this machine was built (the builder's very last step). */
    void announce() {
        Observers.FOUND.forEach(o -> o.built(this));
    }

    /**
     * The machine's one instance of {@code type} (for the typed accessors only), looked up in the injector once: the
     * lab's bookkeeping asks for layers on every event of a run.
     */
    private <T> T component(Class<T> type) {
        return type.cast(components.computeIfAbsent(type, injector::getInstance));
    }

    /** The machine's one event loop: virtual time, the trace, the seeded random source. */
    public EventLoop loop() {
        return loop;
    }

    /** Runs events until none is left (the loop's {@link EventLoop#runUntilIdle()}). */
    public void runUntilIdle() {
        loop.runUntilIdle();
    }

    /** The endpoint (the hardware side of a device) called {@code name}, or null. */
    public PcieEndpoint endpoint(String name) {
        return endpoints.get(name);
    }

    /** The endpoints by name, in the order they were probed. */
    public Map<String, PcieEndpoint> endpoints() {
        return endpoints;
    }

    /** The kernel's view of device {@code name}, or null. */
    public Device device(String name) {
        return devices.get(name);
    }

    /**
     * The kernel's device {@code name}, for a step that needs the kernel to know it.
     *
     * @throws KernelException ENODEV for an endpoint the kernel was not told sits behind the IOMMU
     */
    public Device knownDevice(String name) {
        Device dev = devices.get(name);
        if (dev == null) {
            throw new KernelException(Errno.ENODEV, "device", name + " is not behind an IOMMU this kernel knows");
        }
        return dev;
    }

    /** The address space of process {@code name}, or null. */
    public MmStruct process(String name) {
        return processes.get(name);
    }

    /** The processes by name, in declaration order. */
    public Map<String, MmStruct> processes() {
        return Collections.unmodifiableMap(processes);
    }

    /**
     * Binds device {@code device} to process {@code process} for SVA ({@link IommuSva#bindDevice}).
     *
     * @throws IllegalArgumentException for a device or process the machine does not have
     */
    public SvaHandle svaBind(String device, String process) {
        Device dev = devices.get(device);
        MmStruct mm = processes.get(process);
        if (dev == null || mm == null) {
            throw new IllegalArgumentException(dev == null ? "no device " + device : "no process " + process);
        }
        return sva().bindDevice(dev, mm);
    }

    /**
     * Starts {@code job} on endpoint {@code device} and runs the loop until idle.
     *
     * @return the DMA's outcome, or null when it is still pending once nothing is left to run
     * @throws IllegalArgumentException for a device the machine does not have
     */
    public DmaOutcome runDma(String device, DmaJob job) {
        PcieEndpoint ep = endpoints.get(device);
        if (ep == null) {
            throw new IllegalArgumentException("no device " + device);
        }
        DmaOutcome[] outcome = new DmaOutcome[1];
        ep.startDma(job, o -> outcome[0] = o);
        loop.runUntilIdle();
        return outcome[0];
    }

    /**
     * The user-space view of process {@code name}: its iommufd context and client, created on first use with the
     * machine's {@code vfio.*} policies (the process's own {@code user-response} first).
     *
     * @throws IllegalArgumentException for a process the machine does not have
     */
    public VfioProcess userspace(String name) {
        MmStruct mm = processes.get(name);
        if (mm == null) {
            throw new IllegalArgumentException("no process " + name);
        }
        return userspace.computeIfAbsent(name, n -> {
            UserspaceResponse response = component(UserspaceResponse.class);
            if (userResponses.containsKey(n)) {
                response = response.withMode(userResponses.get(n));
            }
            Iommufd iommufd = new Iommufd(core(), component(IoPgfault.class),
                    component(Iommufd.ReplaceAutoResponse.class));
            UserspaceDriver driver = new UserspaceDriver(iommufd, mm, loop, component(TimingModel.class),
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

    /** What the hardware reported to the lab: fault records, their losses, interrupts. */
    public FaultRecorder faultRecorder() {
        return faults;
    }

    /** The IOMMU model the devices talk to (e.g. a {@code VtdUnit}). */
    public IommuHardware hardware() {
        return component(IommuHardware.class);
    }

    /** How long simulated work takes on this machine. */
    public TimingModel timing() {
        return component(TimingModel.class);
    }

    /** The simulated physical memory the hardware walks. */
    public PhysicalMemory memory() {
        return component(PhysicalMemory.class);
    }

    /** The driver of the IOMMU model (e.g. {@code IntelIommu}). */
    public IommuOps ops() {
        return component(IommuOps.class);
    }

    /** The IOMMU core: groups, domains, attach handles. */
    public IommuCore core() {
        return component(IommuCore.class);
    }

    /** io-pgfault. A test that replaced the layer through {@code IoPgfault} still finds the lab's one here. */
    public Iopf iopf() {
        return component(Iopf.class);
    }

    public IommuSva sva() {
        return component(IommuSva.class);
    }

    /** The DMA API (dma-iommu). */
    public IommuDma dma() {
        return component(IommuDma.class);
    }

    /** The page allocator. */
    public FrameAllocator frames() {
        return component(FrameAllocator.class);
    }

    /** The CPU page-table format of the platform's architecture (x86-64 or Sv39). */
    public CpuPageTable cpuPageTable() {
        return component(CpuPageTable.class);
    }

    /** The kernel log (dmesg). */
    public KernelLog log() {
        return component(KernelLog.class);
    }

    public FaultEvents faultEvents() {
        return component(FaultEvents.class);
    }

    public FailureInjector failures() {
        return component(FailureInjector.class);
    }

    /** iommu_set_fault_handler()/report_iommu_fault(), writing to this machine's log. */
    public LegacyFaultReporting legacyFaultReporting() {
        return component(LegacyFaultReporting.class);
    }
}
