package dev.iommulab.core.kernel;

import java.util.Objects;

/**
 * A kernel-style call failed with {@link #errno()}; {@link #argument()} names the argument at fault.
 * A call that throws this has changed no state.
 */
public final class KernelException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final Errno errno;
    private final String argument;

    public KernelException(Errno errno, String argument, String message) {
        super(errno + " (" + argument + "): " + message);
        this.errno = Objects.requireNonNull(errno, "errno");
        this.argument = Objects.requireNonNull(argument, "argument");
    }

    public Errno errno() {
        return errno;
    }

    public String argument() {
        return argument;
    }
}
