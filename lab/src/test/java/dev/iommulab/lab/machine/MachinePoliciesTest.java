package dev.iommulab.lab.machine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.inject.Guice;
import dev.iommulab.core.KernelVersion;
import dev.iommulab.core.fault.PageResponseCode;
import dev.iommulab.drivers.OverflowRecovery;
import dev.iommulab.iopf.BoundedPoolAllocation;
import dev.iommulab.iopf.IopfPolicies;
import dev.iommulab.iopf.KernelGroupAllocation;
import dev.iommulab.iopf.PartialMatch;
import dev.iommulab.lab.ScenarioFiles;
import dev.iommulab.lab.scenario.Scenario;
import dev.iommulab.lab.scenario.ScenarioLoader;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The scenario's {@code kernel} and {@code policies} reach io-pgfault and the drivers through the layers'
 * {@code MapBinder<String, Policy>}; unknown keys, values and parameters are configuration errors (exit 2)
 * naming the key before anything runs.
 */
class MachinePoliciesTest {

    private static Scenario quickstart(String... overrides) throws Exception {
        return new ScenarioLoader().load(ScenarioFiles.SCENARIOS.resolve("quickstart.yaml"), List.of(overrides));
    }

    @Test
    void policies_registered_listsEveryDecisionPointWithKernelDefault() {
        assertThat(Machine.policies()).containsOnlyKeys("iopf.abort-response", "iopf.group-allocation",
                "iopf.partial-match", "iopf.overflow-recovery", "fault.overflow-recovery", "dma.flush",
                "vfio.user-response", "vfio.replace-auto-response");
        assertThat(Machine.policies().get("vfio.user-response").defaultValue()).isEqualTo("resolve-and-succeed");
        assertThat(Machine.policies().get("vfio.user-response").parameters()).containsExactly("read-bytes");
        assertThat(Machine.policies().get("vfio.replace-auto-response").defaultValue()).isEqualTo("intended");
        assertThat(Machine.policies().get("fault.overflow-recovery").defaultValue()).isEqualTo("none");
        assertThat(Machine.policies().get("iopf.abort-response").defaultValue()).isEqualTo("FAILURE");
        assertThat(Machine.policies().get("dma.flush").defaultValue()).isEqualTo("lazy");
        assertThat(Machine.policies().get("dma.flush").parameters()).containsExactly("batch", "timeout");
        assertThat(Machine.policies().get("iopf.group-allocation").parameters())
                .containsExactly("pool-size", "max-open-per-device");
    }

    @Test
    void boot_noPolicies_bindsLatestKernelAndKernelChoices() throws Exception {
        Machine m = Machine.boot(quickstart());

        IopfPolicies p = m.iopf().policies();
        assertThat(p.kernel()).isEqualTo(KernelVersion.LATEST);
        assertThat(p.abort().code()).isEqualTo(PageResponseCode.FAILURE);
        assertThat(p.allocation()).isInstanceOf(KernelGroupAllocation.class);
        assertThat(p.partialMatch()).isSameAs(PartialMatch.GRPID);
        assertThat(bound(quickstart(), OverflowRecovery.class)).isSameAs(OverflowRecovery.DISCARD_PARTIALS);
    }

    @Test
    void boot_everyPolicyAndKernel_boundIntoIopfAndDrivers() throws Exception {
        Scenario s = quickstart("kernel=v6.8", "policies.iopf.abort-response=INVALID",
                "policies.iopf.group-allocation=bounded-pool", "policies.iopf.group-allocation.pool-size=8",
                "policies.iopf.group-allocation.max-open-per-device=2", "policies.iopf.partial-match=grpid-pasid",
                "policies.iopf.overflow-recovery=reset-devices");

        assertEveryPolicyAndKernel(Machine.boot(s));
        assertThat(bound(s, OverflowRecovery.class)).isSameAs(OverflowRecovery.RESET_DEVICES);
    }

    @Test
    void build_everyPolicyAndKernel_boundIntoIopfAndDrivers() throws Exception {
        MachineBuilder builder = Machine.builder().kernel(KernelVersion.V6_8).policy("iopf.abort-response", "INVALID")
                .policy("iopf.group-allocation", "bounded-pool").policy("iopf.group-allocation.pool-size", "8")
                .policy("iopf.group-allocation.max-open-per-device", "2").policy("iopf.partial-match", "grpid-pasid")
                .policy("iopf.overflow-recovery", "reset-devices");

        assertEveryPolicyAndKernel(builder.build());
        assertThat(Guice.createInjector(builder.module()).getInstance(OverflowRecovery.class))
                .isSameAs(OverflowRecovery.RESET_DEVICES);
    }

    /** The binding of {@code type} in the machine {@code scenario} describes. */
    private static <T> T bound(Scenario scenario, Class<T> type) throws Exception {
        return Guice.createInjector(Machine.builder(scenario).module()).getInstance(type);
    }

    private static void assertEveryPolicyAndKernel(Machine m) {
        IopfPolicies p = m.iopf().policies();
        assertThat(p.kernel()).isEqualTo(KernelVersion.V6_8);
        assertThat(p.abort().code()).isEqualTo(PageResponseCode.INVALID);
        assertThat(p.allocation()).isInstanceOfSatisfying(BoundedPoolAllocation.class, a -> {
            assertThat(a.poolSize()).isEqualTo(8);
            assertThat(a.maxOpenPerDevice()).isEqualTo(2);
        });
        assertThat(p.partialMatch()).isSameAs(PartialMatch.GRPID_PASID);
    }

    @Test
    void boot_boundedPoolWithoutParameters_usesDocumentedDefaults() throws Exception {
        Machine m = Machine.boot(quickstart("policies.iopf.group-allocation=bounded-pool"));

        assertThat(m.iopf().policies().allocation()).isInstanceOfSatisfying(BoundedPoolAllocation.class, a -> {
            assertThat(a.poolSize()).isEqualTo(BoundedPoolAllocation.DEFAULT_POOL_SIZE).isEqualTo(256);
            assertThat(a.maxOpenPerDevice()).isEqualTo(BoundedPoolAllocation.DEFAULT_MAX_OPEN_PER_DEVICE)
                    .isEqualTo(32);
        });
    }

    @Test
    void checkHardware_unknownPolicyKey_errorNamesKeyAndKnownPolicies() throws Exception {
        MachineConfigException e = catchThrowableOfType(MachineConfigException.class,
                () -> Machine.checkHardware(quickstart("policies.iopf.abort-respnse=INVALID")));

        assertThat(e.key()).isEqualTo("policies.iopf.abort-respnse");
        assertThat(e.getMessage()).contains("unknown policy").contains("iopf.abort-response")
                .contains("iopf.group-allocation.pool-size");
    }

    @Test
    void checkHardware_unknownPolicyValue_errorNamesKeyAndValues() throws Exception {
        MachineConfigException e = catchThrowableOfType(MachineConfigException.class,
                () -> Machine.checkHardware(quickstart("policies.iopf.overflow-recovery=reboot")));

        assertThat(e.key()).isEqualTo("policies.iopf.overflow-recovery");
        assertThat(e.getMessage()).contains("'reboot'").contains("discard-partials, none, reset-devices");
    }

    @Test
    void checkHardware_badOrMisplacedParameter_errorNamesParameterKey() throws Exception {
        MachineConfigException bad = catchThrowableOfType(MachineConfigException.class,
                () -> Machine.checkHardware(quickstart("policies.iopf.group-allocation=bounded-pool",
                        "policies.iopf.group-allocation.pool-size=0")));
        MachineConfigException misplaced = catchThrowableOfType(MachineConfigException.class,
                () -> Machine.checkHardware(quickstart("policies.iopf.group-allocation.max-open-per-device=4")));
        MachineConfigException unknown = catchThrowableOfType(MachineConfigException.class,
                () -> Machine.checkHardware(quickstart("policies.iopf.abort-response.level=2")));

        assertThat(bad.key()).isEqualTo("policies.iopf.group-allocation.pool-size");
        assertThat(misplaced.key()).isEqualTo("policies.iopf.group-allocation.max-open-per-device");
        assertThat(misplaced.getMessage()).contains("bounded-pool");
        assertThat(unknown.key()).isEqualTo("policies.iopf.abort-response.level");
    }

    @Test
    void kernels_scenarioChoices_matchKernelVersions() {
        assertThat(Scenario.KERNELS).containsExactlyElementsOf(KernelVersion.labels());
    }
}
