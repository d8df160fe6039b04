package dev.iommulab.core.policy;

/** A policy key, value or parameter the registered policies do not accept. */
public final class PolicyException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String key;

    public PolicyException(String key, String message) {
        super(key + ": " + message);
        this.key = key;
    }

    /** The full policy key at fault, e.g. {@code iopf.group-allocation.pool-size}. */
    public String key() {
        return key;
    }
}
