/**
 * The test kit of iommu-lab: what KUnit and the kselftests are to the kernel's IOMMU code, this
 * module is to the simulation. It depends on every simulation module and on {@code lab}, and is meant
 * to be used from the tests of users and of the other modules.
 *
 * <p>It will hold, as the corresponding issues land:
 * <ul>
 *   <li>AssertJ assertions on page responses, fault records, iopf groups and device state;</li>
 *   <li>a JUnit 5 extension that runs the invariant checker of DESIGN.md §5 after every test;</li>
 *   <li>the hardware-model contract test kit: one abstract contract test that every
 *       {@code IommuHardware} implementation subclasses and must pass.</li>
 * </ul>
 *
 * <p>For now it holds only its tests: the ArchUnit rules ({@code dev.iommulab.testkit.architecture})
 * that enforce the module layering of DESIGN.md §1 and the determinism rules of §2 (no wall clock,
 * no unseeded randomness, no threads) on the main code of every module, plus the no-field-injection
 * style rule of §7.
 */
package dev.iommulab.testkit;
