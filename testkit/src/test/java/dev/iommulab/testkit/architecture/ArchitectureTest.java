package dev.iommulab.testkit.architecture;

import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Checks the real main code of every simulation module and {@code lab} against {@link IommuLabRules}.
 * testkit and benchmarks are not imported: they are tooling, not simulation.
 */
class ArchitectureTest {

    private static JavaClasses mainClasses;

    @BeforeAll
    static void importMainCode() {
        mainClasses = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .withImportOption(new ExcludeTestkitAndBench())
                .importPackages(IommuLabRules.ROOT_PACKAGE);
    }

    @Test
    void import_mainCode_seesTheSimulationAndNoTooling() {
        assertThat(mainClasses.containPackage("dev.iommulab.hw.sim")).isTrue();
        assertThat(mainClasses).noneMatch(c -> c.getPackageName().startsWith("dev.iommulab.testkit")
                || c.getPackageName().startsWith("dev.iommulab.bench"));
    }

    @Test
    void layering_mainCode_followsDesignModuleOrder() {
        IommuLabRules.layering(IommuLabRules.ROOT_PACKAGE).check(mainClasses);
    }

    @Test
    void vendorHardwareOnlyFromDrivers_mainCode_reachesVtdAndRiscvOnlyThroughTheDrivers() {
        IommuLabRules.vendorHardwareOnlyFromDrivers(IommuLabRules.ROOT_PACKAGE).check(mainClasses);
    }

    @Test
    void noWallClock_simulationModules_readOnlyVirtualTime() {
        IommuLabRules.noWallClock(IommuLabRules.SIMULATION_PACKAGES).check(mainClasses);
    }

    @Test
    void noUnseededRandomness_mainCode_usesOnlySeededSources() {
        IommuLabRules.noUnseededRandomness(IommuLabRules.ALL_PACKAGES).check(mainClasses);
    }

    @Test
    void noThreads_simulationModules_runOnTheCallersThread() {
        IommuLabRules.noThreads(IommuLabRules.SIMULATION_PACKAGES).check(mainClasses);
    }

    @Test
    void noFieldInjection_mainCode_usesConstructorInjection() {
        IommuLabRules.noFieldInjection().check(mainClasses);
    }

    /** Leaves out {@code dev.iommulab.testkit} and {@code dev.iommulab.bench}, wherever they come from. */
    static final class ExcludeTestkitAndBench implements ImportOption {
        @Override
        public boolean includes(com.tngtech.archunit.core.importer.Location location) {
            return !location.contains("/dev/iommulab/testkit/") && !location.contains("/dev/iommulab/bench/");
        }
    }
}
