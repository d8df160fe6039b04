package dev.iommulab.testkit.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noFields;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.AccessTarget;
import com.tngtech.archunit.core.domain.JavaAccess;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.library.Architectures.LayeredArchitecture;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.InstantSource;
import java.util.Collection;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.Timer;
import java.util.TimerTask;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Predicate;
import java.util.stream.BaseStream;

/**
 * The architecture and determinism rules of DESIGN.md §1 and §2, as ArchUnit rules.
 *
 * <p>Every rule that has a scope takes it as a parameter, so the same rule definition checks the real
 * code base ({@link ArchitectureTest}) and the fixtures that prove it can fail
 * ({@link ArchitectureRulesFixtureTest}).
 */
final class IommuLabRules {

    /** Root package of everything the rules look at. */
    static final String ROOT_PACKAGE = "dev.iommulab";

    /** The layers of DESIGN.md §1, lowest first. A layer may use itself and the layers before it. */
    static final List<String> LAYERS = List.of("hw", "core", "iopf", "drivers", "sva", "vfio", "lab");

    /**
     * The vendor hardware models under {@code hw}: the two built today and the three families planned
     * (DESIGN.md §1). Only the hardware model itself and the drivers may see them.
     */
    static final List<String> VENDOR_HARDWARE = List.of("vtd", "riscv", "smmuv3", "amd", "virtio");

    /** Package patterns of the simulation modules (everything below {@code lab}). */
    static final String[] SIMULATION_PACKAGES = simulationPackages(ROOT_PACKAGE);

    /** Package patterns of all main code the rules import (testkit and bench are not imported). */
    static final String[] ALL_PACKAGES = {ROOT_PACKAGE + ".."};

    private static final String[] DATE_TIME_TYPES = {
        "java.time.Instant", "java.time.LocalDateTime", "java.time.LocalDate", "java.time.LocalTime",
        "java.time.ZonedDateTime", "java.time.OffsetDateTime",
    };

    private IommuLabRules() {
    }

    /** The simulation-module package patterns ({@code hw} to {@code vfio}) under {@code root}. */
    static String[] simulationPackages(String root) {
        return LAYERS.subList(0, LAYERS.indexOf("lab")).stream()
                .map(layer -> root + "." + layer + "..")
                .toArray(String[]::new);
    }

    /**
     * Rule a: the layering of DESIGN.md §1 for the packages {@code <root>.hw..} to {@code <root>.lab..}.
     * Each layer may be used only by the layers above it (use within a layer is always allowed);
     * {@code lab} may be used by none. Dependencies to packages outside the layers are not checked
     * here (the determinism rules cover the JDK).
     */
    static ArchRule layering(String root) {
        LayeredArchitecture architecture = layeredArchitecture()
                .consideringOnlyDependenciesInLayers()
                .withOptionalLayers(true);
        for (String layer : LAYERS) {
            architecture = architecture.layer(layer).definedBy(root + "." + layer + "..");
        }
        for (int i = 0; i < LAYERS.size() - 1; i++) {
            String[] above = LAYERS.subList(i + 1, LAYERS.size()).toArray(String[]::new);
            architecture = architecture.whereLayer(LAYERS.get(i)).mayOnlyBeAccessedByLayers(above);
        }
        return architecture.whereLayer(LAYERS.get(LAYERS.size() - 1)).mayNotBeAccessedByAnyLayer()
                .because("DESIGN.md §1: a module may depend only on modules listed above it");
    }

    /**
     * Rule f: only the drivers ({@code <root>.drivers..}) and the hardware model itself
     * ({@code <root>.hw..}) may depend on a vendor hardware package {@code <root>.hw.<vendor>..}
     * ({@link #VENDOR_HARDWARE}). Every other main package under {@code root} (core, iopf, sva, vfio,
     * lab) reaches the hardware through the driver SPI and the drivers' {@code Platform}, so adding a
     * vendor touches the hardware model and its driver only. Tests and benchmarks are not imported by
     * {@link ArchitectureTest}, so they may use vendor packages.
     */
    static ArchRule vendorHardwareOnlyFromDrivers(String root) {
        String[] vendorPackages = VENDOR_HARDWARE.stream()
                .map(vendor -> root + ".hw." + vendor + "..")
                .toArray(String[]::new);
        return noClasses().that().resideInAPackage(root + "..")
                .and().resideOutsideOfPackages(root + ".hw..", root + ".drivers..")
                .should().dependOnClassesThat().resideInAnyPackage(vendorPackages)
                .because("issue 13: only the drivers program a vendor's hardware model; "
                        + "the layers above them see the IOMMU through IommuOps and Platform");
    }

    /**
     * Rule b: no wall clock. Calls and method references count, so {@code System::nanoTime} handed
     * to a {@code LongSupplier} is caught too. {@code now(Clock)} is allowed (the clock decides).
     */
    static ArchRule noWallClock(String... packages) {
        return noClasses().that().resideInAnyPackage(packages)
                .should().accessTargetWhere(codeUnit("System.currentTimeMillis()",
                        t -> isMethod(t, System.class, "currentTimeMillis")))
                .orShould().accessTargetWhere(codeUnit("System.nanoTime()",
                        t -> isMethod(t, System.class, "nanoTime")))
                .orShould().accessTargetWhere(codeUnit("now() of a java.time type without a Clock argument",
                        IommuLabRules::isSystemNow))
                .orShould().accessTargetWhere(codeUnit("Clock.system*() / Clock.tick{Millis,Seconds,Minutes}()",
                        t -> ownedBy(t, Clock.class) && (t.getName().startsWith("system")
                                || List.of("tickMillis", "tickSeconds", "tickMinutes").contains(t.getName()))))
                .orShould().accessTargetWhere(codeUnit("InstantSource.system()",
                        t -> isMethod(t, InstantSource.class, "system")))
                .orShould().accessTargetWhere(codeUnit("new java.util.Date()",
                        t -> isNoArgConstructor(t, java.util.Date.class)))
                .because("DESIGN.md §2: simulation code reads virtual time from the EventLoop, never the wall clock");
    }

    /**
     * Rule c: no unseeded randomness. Seeded {@code new Random(seed)} and
     * {@code new SplittableRandom(seed)} are allowed; the simulation's source is {@code SimRandom}.
     */
    static ArchRule noUnseededRandomness(String... packages) {
        return noClasses().that().resideInAnyPackage(packages)
                .should().accessTargetWhere(codeUnit("new java.util.Random()",
                        t -> isNoArgConstructor(t, Random.class)))
                .orShould().accessTargetWhere(codeUnit("new java.util.SplittableRandom()",
                        t -> isNoArgConstructor(t, SplittableRandom.class)))
                .orShould().accessTargetWhere(codeUnit("Math.random() / StrictMath.random()",
                        t -> isMethod(t, Math.class, "random") || isMethod(t, StrictMath.class, "random")))
                .orShould().accessTargetWhere(codeUnit("UUID.randomUUID()",
                        t -> isMethod(t, UUID.class, "randomUUID")))
                .orShould().accessTargetWhere(codeUnit("Collections.shuffle(List) without a Random",
                        t -> isMethod(t, java.util.Collections.class, "shuffle") && parameterCount(t) == 1))
                .orShould().dependOnClassesThat(assignableToAny(ThreadLocalRandom.class, SecureRandom.class))
                .because("DESIGN.md §2: same scenario + same seed must give a byte-identical trace");
    }

    /**
     * Rule d: no threads. The simulation runs on the caller's thread, one event at a time; parallel
     * streams are threads too.
     */
    static ArchRule noThreads(String... packages) {
        return noClasses().that().resideInAnyPackage(packages)
                .should().dependOnClassesThat(assignableToAny(Thread.class, ThreadFactory.class,
                        ExecutorService.class, Executors.class, ForkJoinPool.class, CompletableFuture.class,
                        Timer.class, TimerTask.class))
                .orShould().accessTargetWhere(codeUnit("Collection.parallelStream() / BaseStream.parallel()",
                        t -> (t.getName().equals("parallelStream") && t.getOwner().isAssignableTo(Collection.class))
                                || (t.getName().equals("parallel") && t.getOwner().isAssignableTo(BaseStream.class))))
                .because("DESIGN.md §2: one EventLoop per machine dispatches every event on the caller's thread");
    }

    /** Rule e: constructor injection only (DESIGN.md §7). */
    static ArchRule noFieldInjection() {
        return noFields()
                .should().beAnnotatedWith("jakarta.inject.Inject")
                .orShould().beAnnotatedWith("com.google.inject.Inject")
                .orShould().beAnnotatedWith("javax.inject.Inject")
                .because("DESIGN.md §7: Guice at the edges, constructor injection, no field injection");
    }

    private static DescribedPredicate<JavaAccess<?>> codeUnit(String description,
                                                              Predicate<AccessTarget.CodeUnitAccessTarget> test) {
        return DescribedPredicate.describe("target is " + description,
                access -> access.getTarget() instanceof AccessTarget.CodeUnitAccessTarget target
                        && test.test(target));
    }

    private static DescribedPredicate<JavaClass> assignableToAny(Class<?>... types) {
        StringBuilder names = new StringBuilder();
        for (Class<?> type : types) {
            names.append(names.length() == 0 ? "" : ", ").append(type.getName());
        }
        return DescribedPredicate.describe("are assignable to any of [" + names + "]", javaClass -> {
            for (Class<?> type : types) {
                if (javaClass.isAssignableTo(type)) {
                    return true;
                }
            }
            return false;
        });
    }

    private static boolean ownedBy(AccessTarget target, Class<?> owner) {
        return target.getOwner().isEquivalentTo(owner);
    }

    private static boolean isMethod(AccessTarget target, Class<?> owner, String name) {
        return ownedBy(target, owner) && target.getName().equals(name);
    }

    private static boolean isNoArgConstructor(AccessTarget.CodeUnitAccessTarget target, Class<?> owner) {
        return ownedBy(target, owner) && target.getName().equals("<init>") && parameterCount(target) == 0;
    }

    private static int parameterCount(AccessTarget.CodeUnitAccessTarget target) {
        return target.getRawParameterTypes().size();
    }

    private static boolean isSystemNow(AccessTarget.CodeUnitAccessTarget target) {
        if (!target.getName().equals("now")) {
            return false;
        }
        String owner = target.getOwner().getName();
        boolean dateTimeType = false;
        for (String type : DATE_TIME_TYPES) {
            dateTimeType |= type.equals(owner);
        }
        boolean takesClock = parameterCount(target) == 1
                && target.getRawParameterTypes().get(0).isEquivalentTo(Clock.class);
        return dateTimeType && !takesClock;
    }
}
