package dev.iommulab.testkit.architecture;

import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.EvaluationResult;
import dev.iommulab.testkit.architecture.fixtures.clock.AllowedFixedTime;
import dev.iommulab.testkit.architecture.fixtures.clock.ViolatingClockSystemDefaultZone;
import dev.iommulab.testkit.architecture.fixtures.clock.ViolatingClockSystemUtc;
import dev.iommulab.testkit.architecture.fixtures.clock.ViolatingCurrentTimeMillis;
import dev.iommulab.testkit.architecture.fixtures.clock.ViolatingInstantNow;
import dev.iommulab.testkit.architecture.fixtures.clock.ViolatingLocalDateNow;
import dev.iommulab.testkit.architecture.fixtures.clock.ViolatingLocalDateTimeNow;
import dev.iommulab.testkit.architecture.fixtures.clock.ViolatingNanoTime;
import dev.iommulab.testkit.architecture.fixtures.clock.ViolatingNanoTimeReference;
import dev.iommulab.testkit.architecture.fixtures.clock.ViolatingNewDate;
import dev.iommulab.testkit.architecture.fixtures.clock.ViolatingZonedDateTimeNow;
import dev.iommulab.testkit.architecture.fixtures.injection.AllowedConstructorInjection;
import dev.iommulab.testkit.architecture.fixtures.injection.ViolatingGuiceFieldInjection;
import dev.iommulab.testkit.architecture.fixtures.injection.ViolatingJakartaFieldInjection;
import dev.iommulab.testkit.architecture.fixtures.random.AllowedSeededRandom;
import dev.iommulab.testkit.architecture.fixtures.random.ViolatingMathRandom;
import dev.iommulab.testkit.architecture.fixtures.random.ViolatingNewRandom;
import dev.iommulab.testkit.architecture.fixtures.random.ViolatingNewSplittableRandom;
import dev.iommulab.testkit.architecture.fixtures.random.ViolatingRandomConstructorReference;
import dev.iommulab.testkit.architecture.fixtures.random.ViolatingRandomUuid;
import dev.iommulab.testkit.architecture.fixtures.random.ViolatingSecureRandom;
import dev.iommulab.testkit.architecture.fixtures.random.ViolatingSecureRandomField;
import dev.iommulab.testkit.architecture.fixtures.random.ViolatingShuffle;
import dev.iommulab.testkit.architecture.fixtures.random.ViolatingThreadLocalRandom;
import dev.iommulab.testkit.architecture.fixtures.threads.AllowedEventLoopExecutor;
import dev.iommulab.testkit.architecture.fixtures.threads.ViolatingCompletableFuture;
import dev.iommulab.testkit.architecture.fixtures.threads.ViolatingExecutorService;
import dev.iommulab.testkit.architecture.fixtures.threads.ViolatingExecutors;
import dev.iommulab.testkit.architecture.fixtures.threads.ViolatingForkJoinPool;
import dev.iommulab.testkit.architecture.fixtures.threads.ViolatingNewThread;
import dev.iommulab.testkit.architecture.fixtures.threads.ViolatingParallelStream;
import dev.iommulab.testkit.architecture.fixtures.threads.ViolatingThreadSleep;
import dev.iommulab.testkit.architecture.fixtures.threads.ViolatingTimer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Proves that every rule in {@link IommuLabRules} can fail: each rule runs against fixture classes
 * that break it (a violation is expected) and fixtures that keep it (none expected). The scoped rules
 * are built with the fixture packages as their scope, which is the same rule definition
 * {@link ArchitectureTest} applies to the real modules.
 */
class ArchitectureRulesFixtureTest {

    private static final String FIXTURES = "dev.iommulab.testkit.architecture.fixtures";
    private static final String CLOCK = FIXTURES + ".clock";
    private static final String RANDOM = FIXTURES + ".random";
    private static final String THREADS = FIXTURES + ".threads";
    private static final String INJECTION = FIXTURES + ".injection";

    private static final Map<String, JavaClasses> IMPORTED = new ConcurrentHashMap<>();

    // ---- a. layering ----------------------------------------------------------------------------

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"hwusescore", "svausesvfio", "vfiouseslab"})
    void layering_fixtureUsingAHigherLayer_isViolation(String scenario) {
        String root = FIXTURES + ".layering." + scenario;

        EvaluationResult result = IommuLabRules.layering(root).evaluate(importPackage(root));

        assertThat(result.hasViolation()).as(report(result)).isTrue();
    }

    @Test
    void layering_fixtureUsingOnlyLowerLayersAndItself_hasNoViolation() {
        String root = FIXTURES + ".layering.downward";

        EvaluationResult result = IommuLabRules.layering(root).evaluate(importPackage(root));

        assertThat(result.hasViolation()).as(report(result)).isFalse();
    }

    // ---- f. vendor hardware only from the drivers ------------------------------------------------

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"labusesvtd", "coreusesriscv", "vfiousessmmuv3"})
    void vendorHardwareOnlyFromDrivers_upperLayerUsingAVendorPackage_isViolation(String scenario) {
        String root = FIXTURES + ".vendor." + scenario;

        EvaluationResult result = IommuLabRules.vendorHardwareOnlyFromDrivers(root).evaluate(importPackage(root));

        assertThat(result.hasViolation()).as(report(result)).isTrue();
    }

    @Test
    void vendorHardwareOnlyFromDrivers_driversAndHardwareUsingVendorPackages_hasNoViolation() {
        String root = FIXTURES + ".vendor.driversonly";

        EvaluationResult result = IommuLabRules.vendorHardwareOnlyFromDrivers(root).evaluate(importPackage(root));

        assertThat(result.hasViolation()).as(report(result)).isFalse();
    }

    // ---- b. wall clock --------------------------------------------------------------------------

    @Test
    void noWallClock_clockFixturePackage_isViolation() {
        assertThat(noWallClock().evaluate(importPackage(CLOCK)).hasViolation()).isTrue();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(classes = {ViolatingCurrentTimeMillis.class, ViolatingNanoTime.class,
        ViolatingNanoTimeReference.class, ViolatingInstantNow.class, ViolatingLocalDateTimeNow.class,
        ViolatingLocalDateNow.class, ViolatingZonedDateTimeNow.class, ViolatingClockSystemUtc.class,
        ViolatingClockSystemDefaultZone.class, ViolatingNewDate.class})
    void noWallClock_eachViolatingFixture_isViolation(Class<?> fixture) {
        assertViolation(noWallClock(), fixture);
    }

    @Test
    void noWallClock_fixedClockAndFixedInstants_hasNoViolation() {
        assertNoViolation(noWallClock(), AllowedFixedTime.class);
    }

    // ---- c. unseeded randomness -----------------------------------------------------------------

    @Test
    void noUnseededRandomness_randomFixturePackage_isViolation() {
        assertThat(noUnseededRandomness().evaluate(importPackage(RANDOM)).hasViolation()).isTrue();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(classes = {ViolatingNewRandom.class, ViolatingRandomConstructorReference.class,
        ViolatingNewSplittableRandom.class, ViolatingMathRandom.class, ViolatingThreadLocalRandom.class,
        ViolatingSecureRandom.class, ViolatingSecureRandomField.class, ViolatingRandomUuid.class,
        ViolatingShuffle.class})
    void noUnseededRandomness_eachViolatingFixture_isViolation(Class<?> fixture) {
        assertViolation(noUnseededRandomness(), fixture);
    }

    @Test
    void noUnseededRandomness_seededSources_hasNoViolation() {
        assertNoViolation(noUnseededRandomness(), AllowedSeededRandom.class);
    }

    // ---- d. threads -----------------------------------------------------------------------------

    @Test
    void noThreads_threadsFixturePackage_isViolation() {
        assertThat(noThreads().evaluate(importPackage(THREADS)).hasViolation()).isTrue();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(classes = {ViolatingNewThread.class, ViolatingThreadSleep.class, ViolatingExecutorService.class,
        ViolatingExecutors.class, ViolatingForkJoinPool.class, ViolatingCompletableFuture.class,
        ViolatingTimer.class, ViolatingParallelStream.class})
    void noThreads_eachViolatingFixture_isViolation(Class<?> fixture) {
        assertViolation(noThreads(), fixture);
    }

    @Test
    void noThreads_executorQueueingOnTheCallersThread_hasNoViolation() {
        assertNoViolation(noThreads(), AllowedEventLoopExecutor.class);
    }

    // ---- e. field injection ---------------------------------------------------------------------

    @Test
    void noFieldInjection_injectionFixturePackage_isViolation() {
        assertThat(IommuLabRules.noFieldInjection().evaluate(importPackage(INJECTION)).hasViolation()).isTrue();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(classes = {ViolatingJakartaFieldInjection.class, ViolatingGuiceFieldInjection.class})
    void noFieldInjection_eachViolatingFixture_isViolation(Class<?> fixture) {
        assertViolation(IommuLabRules.noFieldInjection(), fixture);
    }

    @Test
    void noFieldInjection_constructorInjection_hasNoViolation() {
        assertNoViolation(IommuLabRules.noFieldInjection(), AllowedConstructorInjection.class);
    }

    // ---- helpers --------------------------------------------------------------------------------

    private static ArchRule noWallClock() {
        return IommuLabRules.noWallClock(CLOCK + "..");
    }

    private static ArchRule noUnseededRandomness() {
        return IommuLabRules.noUnseededRandomness(RANDOM + "..");
    }

    private static ArchRule noThreads() {
        return IommuLabRules.noThreads(THREADS + "..");
    }

    /** Imports {@code packageName} and its subpackages, once per test run. */
    private static JavaClasses importPackage(String packageName) {
        JavaClasses classes = IMPORTED.computeIfAbsent(packageName,
                name -> new ClassFileImporter().importPackages(name));
        assertThat(classes).as("fixture classes in %s", packageName).isNotEmpty();
        return classes;
    }

    /** Just {@code fixture}, taken from its imported package. */
    private static JavaClasses only(Class<?> fixture) {
        JavaClasses classes = importPackage(fixture.getPackageName()).that(JavaClass.Predicates.equivalentTo(fixture));
        assertThat(classes).as("imported %s", fixture.getName()).hasSize(1);
        return classes;
    }

    private static void assertViolation(ArchRule rule, Class<?> fixture) {
        EvaluationResult result = rule.evaluate(only(fixture));
        assertThat(result.hasViolation()).as("%s must break: %s", fixture.getSimpleName(), rule).isTrue();
    }

    private static void assertNoViolation(ArchRule rule, Class<?> fixture) {
        EvaluationResult result = rule.evaluate(only(fixture));
        assertThat(result.hasViolation()).as(report(result)).isFalse();
    }

    private static String report(EvaluationResult result) {
        return String.join("\n", result.getFailureReport().getDetails());
    }
}
