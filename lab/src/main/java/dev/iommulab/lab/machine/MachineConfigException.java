package dev.iommulab.lab.machine;

/** The scenario asks for a machine this lab cannot build (unknown model option, model not available). */
public final class MachineConfigException extends Exception {

    private static final long serialVersionUID = 1L;

    private final String key;

    public MachineConfigException(String key, String message) {
        super(key + ": " + message);
        this.key = key;
    }

    /** The scenario key at fault, e.g. {@code hardware.options.prq-entries}. */
    public String key() {
        return key;
    }
}
