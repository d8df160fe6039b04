package dev.iommulab.lab.invariants;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Opts a lab test method (or every test of a class, nested classes included) out of {@link LabInvariantsExtension}:
 * for tests that break one of the lab's invariants on purpose — tests of the invariant checker, or of a documented
 * legacy defect the lab reports as a violation. {@link #invariants} narrows the opt-out to the invariants named; the
 * others are still checked. The fault-path ledger of the fixtures is not affected (its opt-out is
 * {@code @LedgerExempt}).
 *
 * <pre>{@code
 * @Test
 * @InvariantsExempt(reason = "the invariant checker must see a lost response", invariants = "lpig-answered-exactly-once")
 * void lpigAnsweredExactlyOnce_groupResponseLost_fails() { ... }
 * }</pre>
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.METHOD, ElementType.TYPE})
public @interface InvariantsExempt {

    /** Why the test breaks an invariant on purpose (mandatory, not blank): the checker or defect it exercises. */
    String reason();

    /** The invariants (by their {@code invariants} name) the test breaks on purpose; empty: all of them. */
    String[] invariants() default {};
}
