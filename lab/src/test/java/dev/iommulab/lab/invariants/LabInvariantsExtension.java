package dev.iommulab.lab.invariants;

import dev.iommulab.fixtures.TestOptOut;
import java.lang.reflect.AnnotatedElement;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a lab test when a machine built during it broke one of the lab's invariants (the {@code invariants} of a run:
 * DESIGN.md §5, linux-fault-stack.md §8b), naming each violated invariant, the machine and what broke it; after each
 * test, and after all tests of a class (for machines class-level set-up built). The machines are those
 * {@link MachinesSeen} saw through the lab's discovery hooks. Registered by JUnit's extension auto-detection
 * ({@code META-INF/services/org.junit.jupiter.api.extension.Extension} of the lab's tests, with
 * {@code junit.jupiter.extensions.autodetection.enabled=true} in the parent pom), so no lab test registers it.
 * {@link InvariantsExempt} opts a test out.
 */
public final class LabInvariantsExtension implements AfterEachCallback, AfterAllCallback {

    @Override
    public void afterEach(ExtensionContext context) {
        judge(context.getTestMethod().map(m -> (AnnotatedElement) m), context.getTestClass(),
                context.getDisplayName());
    }

    @Override
    public void afterAll(ExtensionContext context) {
        judge(Optional.empty(), context.getTestClass(), context.getDisplayName() + " (class set-up/tear-down)");
    }

    private static void judge(Optional<AnnotatedElement> method, Optional<Class<?>> testClass, String test) {
        List<MachinesSeen.Violation> violations = MachinesSeen.drain();
        InvariantsExempt exempt = TestOptOut.find(InvariantsExempt.class, method, testClass);
        if (exempt != null) {
            if (exempt.reason().isBlank()) {
                throw new AssertionError("@InvariantsExempt on " + test + " needs a reason");
            }
            Set<String> names = Set.of(exempt.invariants());
            violations = violations.stream().filter(v -> !names.isEmpty() && !names.contains(v.invariant())).toList();
        }
        if (!violations.isEmpty()) {
            StringBuilder sb = new StringBuilder("lab invariants: ").append(test).append(" broke ")
                    .append(violations.size()).append(" invariant(s):");
            violations.forEach(v -> sb.append("\n  - ").append(v));
            sb.append("\n(a test that breaks one on purpose says so with @InvariantsExempt(reason = ...))");
            throw new AssertionError(sb.toString());
        }
    }
}
