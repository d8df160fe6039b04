/**
 * The test kit of iommu-lab at the lab's level: what KUnit and the kselftests are to the kernel's IOMMU
 * code, this module is to the whole simulated machine. It depends on {@code lab}; its
 * {@link dev.iommulab.testkit.InvariantsExtension} checks the lab's invariants (DESIGN.md §5) after every
 * test of a class that uses it, on every machine built and every scenario run during the test (found through the
 * lab's discovery hooks, nothing registered by the test), and its tests hold the ArchUnit rules
 * ({@code dev.iommulab.testkit.architecture}) that enforce the module layering, the determinism rules (no
 * wall clock, no unseeded randomness, no threads), the no-field-injection rule and the rule that only the
 * drivers use vendor hardware packages, on the main code of every module.
 *
 * <p>Fixtures that lower modules' tests need (the hardware-model contract kit, recording driver ops, the
 * fault-path ledger) live in the {@code fixtures} module, which depends only on simulation modules.
 */
package dev.iommulab.testkit;
